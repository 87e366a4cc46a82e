/// <reference lib="dom" />
/**
 * Timing figures for the dashboard (issue 6): `node --import tsx test/server/bench-dashboard.ts DB`.
 * Starts the server in-process on the record, measures each API document cold (first computation) and
 * warm (cached until the next sample), then the first load of the page in Chromium (to the moment the
 * overview's charts and table are drawn). Generate a day at 10 s for 1,000 processes with
 * test/report/gen.ts first.
 */
import { RecordReader, Store } from '../../src/store/index.js';
import { Api } from '../../src/server/api.js';
import { startServer } from '../../src/server/server.js';
import { launch } from './browser.js';

const db = process.argv[2];
if (!db) throw new Error('usage: bench-dashboard.ts DB');
const store = Store.open(db, { mode: 'read' });
const stats = new RecordReader(store).stats();
console.log(`record: ${stats.samples} samples, ${stats.processes} processes`);
const api = new Api({ reader: new RecordReader(store), redact: true, version: 'bench' });
let t0 = performance.now();
const srv = await startServer({ host: '127.0.0.1', port: 0, token: undefined, api, refreshMs: 0 });
console.log(`server start incl. warming overview + process table: ${Math.round(performance.now() - t0)} ms`);

async function time(path: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(srv.url + path);
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return performance.now() - t;
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] ?? NaN;
for (const path of [
  '/api/overview?since=24h',
  '/api/processes?sort=cpu&order=desc&group=0&limit=200',
  '/api/processes?sort=rss&order=desc&group=0&limit=200',
  '/api/processes?sort=rss&group=1',
  '/api/process/1003?since=24h',
  '/api/process/1500?since=24h',
  '/api/suspects?since=24h',
]) {
  const cold = await time(path);
  const warm: number[] = [];
  for (let i = 0; i < 9; i++) warm.push(await time(path));
  console.log(
    `${path.padEnd(58)} cold ${cold.toFixed(1).padStart(7)} ms   warm median ${median(warm).toFixed(1).padStart(6)} ms`,
  );
}

const browser = await launch();
for (const run of ['first', 'second']) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  t0 = performance.now();
  await page.goto(srv.url + '/');
  await page.waitForSelector('html[data-ready=overview]');
  const ready = performance.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const drawn = performance.getEntriesByName('ps-overview-drawn')[0]?.startTime ?? NaN;
    return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, drawn };
  });
  const res = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => {
      const r = e as PerformanceResourceTiming;
      return `${r.name.replace(/^https?:\/\/[^/]+/, '')} ${Math.round(r.startTime)}→${Math.round(r.responseEnd)}`;
    }),
  );
  console.log('  ' + res.join('\n  '));
  console.log(
    `page load (${run} browser context): overview drawn ${Math.round(nav.drawn)} ms after navigation start (${Math.round(ready)} ms as seen from playwright; DOMContentLoaded ${Math.round(nav.domContentLoaded)} ms, load ${Math.round(nav.load)} ms)`,
  );
  await ctx.close();
}
await browser.close();
await srv.close();
store.close();
