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
import { leaksFromRecord } from '../../src/cli/leaks.js';
import { spikesFromRecord, spikesInWorker } from '../../src/cli/spikes.js';
import type { LeaksDocument } from '../../src/detect/leaks.js';

let dir: string;
let model: ReportModel;
let leaksDoc: LeaksDocument;
let dbPath: string;
let htmlPath: string;
let browser: Browser | undefined;
const SAMPLES = 1500;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-report-'));
  const db = join(dir, 'gen.db');
  dbPath = db;
  generateRecord(db, {
    processes: 60,
    samples: SAMPLES,
    intervalMs: 10_000,
    argv0: ['/usr/bin/nginx', '--password=PL4NTED-GEN', 'https://u:PL4NTED-URL@h/'],
  });
  const store = Store.open(db, { mode: 'read' });
  try {
    const reader = new RecordReader(store);
    // What `procsleuth report` does: the report draws the documents of `leaks` and `spikes`.
    const q = { dbPath: db, noLiveLimits: true };
    leaksDoc = leaksFromRecord(reader, q);
    model = buildReport(reader, {
      leaks: leaksDoc,
      spikes: spikesFromRecord(reader, q),
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
  it('shows the suspects of procsleuth leaks: the planted leakers, each drawn with its trend', () => {
    const strip = (x: object): string => JSON.stringify({ ...x, chart: undefined });
    expect(model.leaks.suspects.map(strip)).toEqual(leaksDoc.suspects.map((s) => strip(redactDeep(s))));
    const leaks = model.leaks.suspects
      .filter((s) => s.verdict === 'leak' && s.entity.kind === 'process')
      .map((s) => `${s.entity.pid}/${s.metric}`)
      .sort();
    expect(leaks).toEqual(['1003/anon', '1004/fds', '1005/close_wait']);
    const mem = model.leaks.suspects.find((s) => s.entity.pid === 1003 && s.metric === 'anon')!;
    // 40,960 bytes per 10 s sample = 14.06 MiB/h.
    expect(mem.slopePerHour / 2 ** 20).toBeGreaterThan(13);
    expect(mem.slopePerHour / 2 ** 20).toBeLessThan(15);
    expect(mem.limit?.value).toBeGreaterThan(0);
    expect(mem.exhaustsAt).toMatch(/^\d{4}-/);
    expect(mem.chart?.series.map((s) => s.label)).toEqual(['anonymous memory', 'fitted trend']);
    // The drawn series is the recorded one: it ends where the evidence says it ends.
    const drawn = mem.chart!.series[0]!.values.filter((v): v is number => v !== null);
    expect(Math.abs(drawn[drawn.length - 1]! - mem.evidence.last)).toBeLessThan(mem.evidence.last * 0.01);
    const fds = model.leaks.suspects.find((s) => s.entity.pid === 1004 && s.metric === 'fds')!;
    expect(fds.chart?.series.map((s) => s.label)).toEqual(['open fds', 'fitted trend']);
  });

  it('shows the CPU events of procsleuth spikes at their onset, with the process that burnt it', () => {
    const ev = model.spikes.events.find((e) => e.members.some((m) => m.pid === 1001));
    expect(ev).toBeDefined();
    const mid = Date.parse(model.collection.from!) + (SAMPLES / 2) * 10_000;
    expect(Math.abs(ev!.onsetMs - mid)).toBeLessThan(3 * 10_000);
    expect(ev!.after - ev!.before).toBeGreaterThan(20);
    expect(ev!.chart?.marks?.[0]?.t).toBeCloseTo(ev!.onsetMs / 1000, 1);
    expect(model.spikes.chart?.marks?.length).toBeGreaterThanOrEqual(1);
  });

  it('the spike scan on a worker thread (as `report` runs it) gives the same document', async () => {
    const now = Date.now();
    const w = spikesInWorker({ dbPath, now });
    const doc = await w.result;
    w.stop();
    const store = Store.open(dbPath, { mode: 'read' });
    try {
      expect(doc).toEqual(spikesFromRecord(new RecordReader(store), { dbPath, now }));
    } finally {
      store.close();
    }
    expect(doc.events.length).toBeGreaterThan(0);
    // a record that is not there: the promise rejects, nothing hangs
    await expect(spikesInWorker({ dbPath: join(dir, 'missing.db') }).result).rejects.toThrow();
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
    const k = model.leaks.suspects.findIndex((s) => s.entity.pid === 1003 && s.metric === 'anon');
    const [trend] = await seriesPixels(page, `[data-chart="leak-${k + 1}"]`, [220, 38, 38]);
    expect(trend).toBeGreaterThan(100);
    expect(await page.textContent('#leaks')).toContain('1003 java');
    expect(await page.textContent('#spikes')).toContain('event 1');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-top.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'report-full.png'), fullPage: true });
    const leaks = await page.$('#leaks');
    await leaks?.screenshot({ path: join(ARTIFACTS, 'report-leaks.png') });
    await (await page.$('#spikes'))?.screenshot({ path: join(ARTIFACTS, 'report-spikes.png') });

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
