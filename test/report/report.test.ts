/// <reference lib="dom" />
/**
 * The report built from a generated record (the real RecordWriter; processes that leak memory, fds and
 * CLOSE_WAIT sockets, a CPU spike, idle and busy others), rendered to HTML and opened in Chromium: the
 * suspects are the planted leakers, the spike's onset is marked, every chart is drawn, the page prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordReader, Store } from '../../src/store/index.js';
import { buildReport, type ReportModel } from '../../src/report/html/model.js';
import { renderReportHtml } from '../../src/report/html/render.js';
import { redactDeep } from '../../src/report/redact.js';
import { ARTIFACTS, collectErrors, hasChromium, launch, seriesPixels } from '../server/browser.js';
import { generateRecord } from './gen.js';

let dir: string;
let model: ReportModel;
let htmlPath: string;
let browser: Browser | undefined;
const SAMPLES = 1500;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-report-'));
  const db = join(dir, 'gen.db');
  generateRecord(db, {
    processes: 60,
    samples: SAMPLES,
    intervalMs: 10_000,
    argv0: ['/usr/bin/nginx', '--password=PL4NTED-GEN', 'https://u:PL4NTED-URL@h/'],
  });
  const store = Store.open(db, { mode: 'read' });
  try {
    model = buildReport(new RecordReader(store), {
      db,
      version: '0.1.0',
      chartLibrary: 'uPlot',
      sinceMs: undefined,
      triage: undefined,
      triageNote: 'No triage: --no-triage was given.',
    });
  } finally {
    store.close();
  }
  model = { ...redactDeep(model), redacted: true };
  htmlPath = join(dir, 'report.html');
  writeFileSync(htmlPath, renderReportHtml(model));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report model', () => {
  it('finds the planted leakers, and only as leaks of what they leak', () => {
    const leaks = model.leaks.suspects.filter((s) => s.verdict === 'leak').map((s) => `${s.pid}/${s.metric}`);
    expect(leaks).toEqual(expect.arrayContaining(['1003/rss', '1004/fds', '1005/sockets']));
    // Mean-reverting noise is never a 'leak' (a 'watch' at p < 0.05 happens by chance).
    expect(leaks.filter((l) => !['1003/rss', '1004/fds', '1005/sockets'].includes(l))).toEqual([]);
    const mem = model.leaks.suspects.find((s) => s.pid === 1003 && s.metric === 'rss')!;
    // 40,960 bytes per 10 s sample = 14.06 MiB/h.
    expect(mem.slopePerHour / 2 ** 20).toBeGreaterThan(13);
    expect(mem.slopePerHour / 2 ** 20).toBeLessThan(15);
    expect(mem.limit).toBe(8 * 2 ** 30);
    expect(mem.exhaustsAt).toMatch(/^\d{4}-/);
    expect(mem.chart.series.map((s) => s.label)).toEqual(['RSS', 'fitted trend']);
  });

  it('finds the CPU spike at its onset with the process that burnt it', () => {
    expect(model.spikes.items.length).toBeGreaterThanOrEqual(1);
    const s = model.spikes.items[0]!;
    const mid = Date.parse(model.collection.from!) + (SAMPLES / 2) * 10_000;
    expect(Math.abs(s.onsetMs - mid)).toBeLessThan(3 * 10_000);
    expect(s.afterPercent - s.beforePercent).toBeGreaterThan(20);
    expect(s.top[0]?.pid).toBe(1001);
    expect(model.spikes.chart?.marks?.length).toBe(model.spikes.items.length);
  });

  it('says how the data was collected', () => {
    expect(model.collection.intervalMs).toBe(10_000);
    expect(model.collection.samples).toBe(SAMPLES);
    expect(model.collection.spanSeconds).toBe((SAMPLES - 1) * 10);
    expect(model.collection.runs[0]?.version).toBe('0.1.0');
    expect(model.tcp.source).toBe('record');
    expect(model.tcp.remotes.find((r) => r.state === 'CLOSE_WAIT')?.address).toBe('10.0.9.9');
  });

  it('redacts secrets of the record everywhere in the model and the page', () => {
    const text = JSON.stringify(model) + readFileSync(htmlPath, 'utf8');
    expect(text).not.toContain('PL4NTED');
    expect(text).toContain('--password=[redacted]');
  });
});

describe.skipIf(!hasChromium)('report in Chromium', () => {
  it('opens from a file with no network and draws every chart; prints', async () => {
    browser = await launch();
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, offline: true });
    const page = await ctx.newPage();
    const errors = collectErrors(page);
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(`file://${htmlPath}`);
    await page.waitForSelector('html[data-charts-ready]');
    const n = Number(await page.getAttribute('html', 'data-charts-ready'));
    expect(n).toBeGreaterThan(15);
    const pixels = await seriesPixels(page, '[data-chart]');
    expect(pixels.length).toBe(n);
    // Every chart draws its first series (blue) except those whose first series has its own colour.
    const ids = await page.$$eval('[data-chart]', (els) => els.map((e) => e.getAttribute('data-chart')));
    const blank = ids.filter((id, i) => (pixels[i] ?? 0) < 30 && !/-tcp$/.test(id ?? ''));
    expect(blank).toEqual([]);
    // The leak chart carries the fitted trend in red.
    const [trend] = await seriesPixels(page, '[data-chart="leak-1003-rss"]', [220, 38, 38]);
    expect(trend).toBeGreaterThan(100);
    expect(await page.textContent('#leaks')).toContain('1003 java');
    expect(await page.textContent('#spikes')).toContain('spike 1');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-top.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'report-full.png'), fullPage: true });
    const leaks = await page.$('#leaks');
    await leaks?.screenshot({ path: join(ARTIFACTS, 'report-leaks.png') });

    // Printed: A4 PDF, charts redrawn at the printed width, the nav hidden.
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 700, height: 1000 });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    expect(await page.$eval('nav.toc', (e) => getComputedStyle(e).display)).toBe('none');
    // No chart is wider than the paper.
    const over = await page.$$eval(
      '.ps-chart canvas',
      (cs) => cs.filter((c) => c.getBoundingClientRect().right > 701).length,
    );
    expect(over).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'report-print.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report-print-page1.png') });
    const pdf = await page.pdf({ path: join(ARTIFACTS, 'report.pdf'), format: 'A4', printBackground: true });
    expect(pdf.length).toBeGreaterThan(50_000);
    await ctx.close();
  }, 120_000);
});
