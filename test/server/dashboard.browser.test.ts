/// <reference lib="dom" />
/**
 * The dashboard in Debian's headless Chromium: a real recorder (200 ms) writes a record while a real
 * process leaks fds with planted secrets; `serve` runs on a loopback port with a token. Checked: the
 * overview draws its charts (series pixels on the canvases), the process table sorts, a process page
 * shows its series and live fds, the overview updates by itself, no secret reaches the page, and a
 * request without the token is refused. Screenshots go to artifacts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordReader, Store } from '../../src/store/index.js';
import { Api } from '../../src/server/api.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { collectFds } from '../../src/collect/fds.js';
import { collectPmap } from '../../src/collect/pmap-report.js';
import { readBootId } from '../../src/procfs/boot-id.js';
import { readPidStat } from '../../src/procfs/pid-stat.js';
import { triage } from '../../src/cli/triage.js';
import type { Running } from '../record/helpers.js';
import { MARKER, startLeaker, startRecorder, stopRecorder, type Leaker } from '../report/planted.js';
import { ARTIFACTS, collectErrors, hasChromium, launch, seriesPixels } from './browser.js';

const TOKEN = 'test-token-0123456789';
const roots = { proc: '/proc', sys: '/sys' };
let dir: string;
let leaker: Leaker;
let rec: Running | undefined;
let store: Store;
let srv: RunningServer;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-serve-'));
  leaker = await startLeaker();
  const db = join(dir, 'record.db');
  rec = await startRecorder(db, 30);
  store = Store.open(db, { mode: 'read' });
  const api = new Api({
    reader: new RecordReader(store),
    redact: true,
    version: 'test',
    findings: () =>
      triage(
        { roots, traceMs: 0, cpuWindowMs: 300 },
        { out: () => undefined, err: () => undefined, isTTY: false, env: {} },
      ),
    live: {
      bootId: readBootId('/proc'),
      fds: (pid) => collectFds(roots, pid, { peers: false }),
      maps: (pid) => collectPmap(roots, pid),
      process: (pid) => {
        const st = readPidStat('/proc', pid);
        return st.ok ? { startTimeTicks: st.value.startTimeTicks, fdLimit: undefined } : undefined;
      },
    },
    detectors: {
      leaks: new URL('../../src/cli/leaks.ts', import.meta.url).href,
      spikes: new URL('../../src/cli/spikes.ts', import.meta.url).href,
    },
    suspectsMinIntervalMs: 2000,
  });
  srv = await startServer({ host: '127.0.0.1', port: 0, token: TOKEN, api, refreshMs: 200 });
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (rec) await stopRecorder(rec);
  store?.close();
  leaker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  it('refuses a request without the token, and one with a wrong token', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const r = await page.goto(`${srv.url}/`);
    expect(r?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('token required');
    expect((await page.goto(`${srv.url}/?token=wrong-token-xxxx`))?.status()).toBe(401);
    expect((await fetch(`${srv.url}/api/overview`)).status).toBe(401);
    expect(
      (await fetch(`${srv.url}/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    await ctx.close();
  });

  it('draws the overview, sorts the process table, updates live, and opens a process page', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    const errors = collectErrors(page);
    const t0 = Date.now();
    await page.goto(`${srv.url}/?token=${TOKEN}`);
    await page.waitForSelector('html[data-ready=overview]', { timeout: 15_000 });
    const firstLoadMs = Date.now() - t0;
    expect(page.url()).toBe(`${srv.url}/`);

    // Every host chart is drawn: series pixels on its canvas.
    const charts = await page.$$('#ov-charts [data-chart]');
    expect(charts.length).toBe(5);
    const cpuPixels = await seriesPixels(page, '#ov-charts [data-chart=ov-cpu]');
    expect(cpuPixels[0]).toBeGreaterThan(100);
    const memPixels = await seriesPixels(page, '#ov-charts [data-chart=ov-mem]');
    expect(memPixels[0]).toBeGreaterThan(100);

    // Sort by RSS, descending then ascending: the rows follow.
    const column = async (i: number): Promise<number[]> =>
      page.$$eval(`#proc-table tbody tr td:nth-child(${i})`, (tds) =>
        tds.map((td) => Number(td.getAttribute('data-v') || 'NaN')),
      );
    await page.click('#proc-table th[data-sort=rss]');
    await page.waitForSelector('#proc-table[data-sort=rss][data-order=desc]');
    const desc = (await column(4)).filter((v) => !Number.isNaN(v));
    expect(desc.length).toBeGreaterThan(10);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await page.click('#proc-table th[data-sort=rss]');
    await page.waitForSelector('#proc-table[data-sort=rss][data-order=asc]');
    const asc = (await column(4)).filter((v) => !Number.isNaN(v));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.click('#proc-table th[data-sort=fds]');
    await page.waitForSelector('#proc-table[data-sort=fds][data-order=desc]');
    const fdsDesc = (await column(6)).filter((v) => !Number.isNaN(v));
    expect(fdsDesc).toEqual([...fdsDesc].sort((a, b) => b - a));
    // The leaker holds the most fds of anything on this machine after a few seconds? At least it is listed.
    expect(await page.$(`#proc-table tr[data-pid="${leaker.pid}"]`)).not.toBeNull();

    // Live: the status line names a newer sample after a few seconds.
    const before = await page.textContent('#status');
    await page.waitForFunction((b) => document.getElementById('status')?.textContent !== b, before, {
      timeout: 15_000,
    });

    await page.waitForSelector('#ov-find .finding, #ov-find p', { timeout: 30_000 });
    await page.waitForSelector('#ov-sus[data-state=done]', { timeout: 60_000 });
    // The leaker's fd growth, as `procsleuth leaks` judges it (a leak or, this early, a watch).
    const suspects = await page.$$eval('#sus-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(suspects.some((t) => t.includes(String(leaker.pid)) && /fds/.test(t))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-top.png') });
    expect(await page.$$('#ov-charts [data-chart]')).toHaveLength(5);
    expect(await page.content()).not.toContain(MARKER);

    // The process page of the leaker: its series drawn, its live fds listed, its secrets redacted.
    await page.click(`#proc-table tr[data-pid="${leaker.pid}"] a`);
    await page.waitForSelector('html[data-ready=process]', { timeout: 15_000 });
    const procCharts = await page.$$('#proc-charts [data-chart]');
    expect(procCharts.length).toBe(4);
    const [memProc] = await seriesPixels(page, `#proc-charts [data-chart=p${leaker.pid}-mem]`);
    expect(memProc).toBeGreaterThan(100);
    const [fdProc] = await seriesPixels(page, `#proc-charts [data-chart=p${leaker.pid}-fds]`);
    expect(fdProc).toBeGreaterThan(50);
    await page.waitForSelector('#proc-fds table tbody tr', { timeout: 15_000 });
    const devnull = await page.$$eval(
      '#proc-fds td.cmd',
      (tds) => tds.filter((t) => t.textContent === '/dev/null').length,
    );
    expect(devnull).toBeGreaterThan(10);
    await page.waitForSelector('#proc-maps table tbody tr', { timeout: 15_000 });
    const text = (await page.textContent('body')) ?? '';
    expect(text).toContain('--password [redacted]');
    expect(text).not.toContain(MARKER);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-process.png'), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-process-top.png') });

    // A window the detectors have not run on yet: the page says they are computing (never an empty
    // list), polls, and fills in.
    await page.goto(`${srv.url}/#/`);
    await page.waitForSelector('html[data-ready=overview]', { timeout: 15_000 });
    await page.selectOption('#since', '6h');
    await page.waitForSelector('#ov-sus[data-state=pending]', { timeout: 15_000 });
    expect(await page.textContent('#ov-sus')).toContain('computing…');
    expect(await page.$('#sus-table')).toBeNull();
    await page
      .locator('#ov-suspects')
      .screenshot({ path: join(ARTIFACTS, 'dashboard-suspects-computing.png') });
    await page.waitForSelector('#ov-sus[data-state=done]', { timeout: 60_000 });
    expect(await page.$('#sus-table')).not.toBeNull();
    await page.locator('#ov-suspects').screenshot({ path: join(ARTIFACTS, 'dashboard-suspects.png') });

    // A process page in a window the detectors have not run on: its verdicts say they are computing,
    // then fill in by themselves, and the page is built once (no section twice).
    await page.selectOption('#since', '1h');
    await page.evaluate((pid) => (location.hash = `#/process/${pid}`), leaker.pid);
    await page.waitForSelector('#verdicts[data-state=pending]', { timeout: 15_000 });
    expect(await page.textContent('#verdicts')).toContain('computing the leak verdicts');
    await page.waitForSelector('#verdicts[data-state=done]', { timeout: 60_000 });
    expect(await page.$$('#proc')).toHaveLength(1);
    expect(await page.$$('#proc-fds-s')).toHaveLength(1);
    expect(await page.textContent('#verdicts')).toMatch(/fds leak verdict|finds no leak/);

    expect(errors).toEqual([]);
    console.log(`dashboard first load ${firstLoadMs} ms`);
    await ctx.close();
  }, 120_000);
});
