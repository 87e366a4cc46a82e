/**
 * The recorder on real processes, read back with `history`: a leaking process (rss), an fd leak (fds),
 * workers of one program (a group) and their parent (a tree), and a server leaking CLOSE_WAIT sockets.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario, stopAllScenarios, type RunningScenario } from '../helpers/scenarios.js';
import { runCli, sleep, startCli } from './helpers.js';
import { parsePidStat } from '../../src/procfs/pid-stat.js';
import { readText } from '../../src/util/proc-io.js';
import { emptyStatFields, parseStatBytes, readPidStatFields } from '../../src/procfs/pid-stat.js';
import { sparkline } from '../../src/record/history.js';
import { renderCsv } from '../../src/cli/history.js';
import type { HistoryDocument } from '../../src/record/history.js';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';

// The output contract lives in schema/history.schema.json.
const validateDoc = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(new URL('../../schema/history.schema.json', import.meta.url), 'utf8')) as object,
);

describe('the fast stat reader (procfs/pid-stat.ts) the recorder uses', () => {
  it('agrees with parsePidStat on every live process', () => {
    const out = emptyStatFields();
    let n = 0;
    for (const name of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      const pid = Number(name);
      const t = readText(`/proc/${pid}/stat`, true);
      const r = readPidStatFields('/proc', pid, out);
      if (!t.ok || !r.ok) continue;
      const ref = parsePidStat(t.text);
      // counters move between the two reads of a busy process; identity and layout do not
      expect({ comm: out.comm, ppid: out.ppid, start: out.startTimeTicks, flags: out.flags }).toEqual({
        comm: ref.comm,
        ppid: ref.ppid,
        start: ref.startTimeTicks,
        flags: ref.flags,
      });
      expect(Math.abs(out.utimeTicks - ref.utimeTicks)).toBeLessThan(100);
      n++;
    }
    expect(n).toBeGreaterThan(10);
  });

  it('takes comm to the last parenthesis, and rejects truncated or garbled text', () => {
    const CAT =
      '5778 (cat) R 5732 5732 1081 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 74496 3133440 384 18446744073709551615 94772463128576 0\n';
    const out = emptyStatFields();
    const parse = (s: string): boolean => {
      const b = Buffer.from(s);
      return parseStatBytes(b, b.length, out);
    };
    expect(parse(CAT.replace('(cat)', '((bash) x)'))).toBe(true);
    expect(out).toMatchObject({
      comm: '(bash) x',
      ppid: 5732,
      minorFaults: 103,
      startTimeTicks: 74496,
      vszBytes: 3133440,
      rssPages: 384,
    });
    expect(parse(CAT.replace('(cat)', '(a) R 1 2 3 (b)'))).toBe(true);
    expect(out.comm).toBe('a) R 1 2 3 (b');
    expect(parse('5778 (cat) R 5732 5732')).toBe(false);
    expect(parse(CAT.replace(' 74496 ', ' 7x496 '))).toBe(false);
    expect(parse('garbage')).toBe(false);
    expect(parse('')).toBe(false);
  });
});

describe('sparkline', () => {
  it('scales to the range and keeps width', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, 5, 5])).toBe('▁▁▁');
    expect(
      sparkline(
        Array.from({ length: 1000 }, (_, i) => i),
        10,
      ),
    ).toHaveLength(10);
    expect(sparkline([])).toBe('');
  });
});

describe('history of real processes', () => {
  let dir: string;
  let db: string;
  let leak: RunningScenario<'mem-leak'>;
  let fds: RunningScenario<'fd-leak'>;
  let spin: RunningScenario<'spin'>;
  let cw: RunningScenario<'close-wait-server'>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procsleuth-history-'));
    db = join(dir, 'record.db');
    leak = await startScenario('mem-leak', ['--mode', 'steady', '--kib', '256', '--interval-ms', '100']);
    fds = await startScenario('fd-leak', ['--limit', '1024', '--open', '16', '--interval-ms', '100']);
    spin = await startScenario('spin', ['--threads', '3', '--procs', '1']);
    cw = await startScenario('close-wait-server', []);
    const rec = startCli([
      'record',
      '--interval',
      '250ms',
      '--pass',
      '250ms',
      '--db',
      db,
      '--log-level',
      'debug',
    ]);
    await rec.waitFor((l) => l.event === 'sample');
    // Five clients connect and hang up: the server never closes, so five CLOSE_WAIT sockets are its.
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((res, rej) => {
        const s = connect(cw.info.port, '127.0.0.1', () => {
          s.end();
          res();
        });
        s.on('error', rej);
      });
    }
    await cw.waitForLine(/ACCEPTED 5/);
    await sleep(3000);
    rec.child.kill('SIGTERM');
    expect((await rec.exited).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await stopAllScenarios();
    rmSync(dir, { recursive: true, force: true });
  });

  const history = async (args: string[]): Promise<HistoryDocument> => {
    const r = await runCli(['history', ...args, '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as HistoryDocument;
    expect(validateDoc(doc) ? [] : validateDoc.errors).toEqual([]);
    return doc;
  };

  it('a leaking process: rss grows', async () => {
    const doc = await history([String(leak.pid), '--metric', 'rss,anon']);
    expect(doc.schema).toBe('procsleuth.history/1');
    expect(doc.entity).toMatchObject({ kind: 'process', pid: leak.pid });
    const rss = doc.series.find((s) => s.metric === 'rss');
    expect(rss?.unit).toBe('bytes');
    const pts = rss?.points ?? [];
    expect(pts.length).toBeGreaterThanOrEqual(8);
    // 256 KiB every 100 ms: at least ~5 MiB more over 3 s
    expect((pts.at(-1)?.value ?? 0) - (pts[0]?.value ?? 0)).toBeGreaterThan(4 * 1024 * 1024);
    const anon = doc.series.find((s) => s.metric === 'anon')?.points ?? [];
    expect((anon.at(-1)?.value ?? 0) - (anon[0]?.value ?? 0)).toBeGreaterThan(4 * 1024 * 1024);
  });

  it('an fd leak: fds grow', async () => {
    const doc = await history([String(fds.pid), '--metric', 'fds']);
    const pts = doc.series[0]?.points ?? [];
    expect((pts.at(-1)?.value ?? 0) - (pts[0]?.value ?? 0)).toBeGreaterThan(10);
  });

  it('workers as a group, and the parent with its children as a tree', async () => {
    const workers = spin.info.pids;
    expect(workers).toHaveLength(3);
    const one = await history([String(workers[0]), '--metric', 'cpu']);
    const label = one.entity.group ?? '';
    const g = await history(['--group', label, '--metric', 'cpu']);
    expect(g.entity.kind).toBe('group');
    expect(g.entity.processes.map((p) => p.pid).sort()).toEqual(expect.arrayContaining([...workers].sort()));
    // Three busy workers summed: well above what one of them gets (2 cores, shared with other tests).
    const single = one.series[0]?.summary?.mean ?? 0;
    expect(single).toBeGreaterThan(10);
    expect(g.series[0]?.summary?.mean ?? 0).toBeGreaterThan(2 * single);
    const t = await history(['--tree', String(spin.pid), '--metric', 'cpu,threads']);
    expect(t.entity.processes.map((p) => p.pid).sort()).toEqual([spin.pid, ...workers].sort());
    expect(t.series[0]?.summary?.mean ?? 0).toBeGreaterThan(2 * single);
    expect(t.series[1]?.points.at(-1)?.processes).toBe(4);
  });

  it('a server leaking CLOSE_WAIT sockets: counted by state', async () => {
    const doc = await history([String(cw.pid), '--metric', 'close_wait,listen,sockets']);
    const cwPts = doc.series.find((s) => s.metric === 'close_wait')?.points ?? [];
    expect(cwPts[0]?.value).toBe(0);
    expect(cwPts.at(-1)?.value).toBe(5);
    expect(doc.series.find((s) => s.metric === 'listen')?.points.at(-1)?.value).toBe(1);
  });

  it('text output has a sparkline per metric; --csv has one row per point', async () => {
    const txt = await runCli(['history', String(leak.pid), '--metric', 'rss,cpu', '--db', db]);
    expect(txt.code).toBe(0);
    expect(txt.stdout).toMatch(/^process \d+ mem-leak[\w-]* \(/);
    expect(txt.stdout).toMatch(/rss\s+[▁▂▃▄▅▆▇█]{5,}\s+last \d/);
    const csv = await runCli(['history', String(leak.pid), '--metric', 'rss', '--db', db, '--csv']);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('timestamp,series,value');
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,process:\d+:mem-leak[\w-]*\/rss,\d+$/);
    const doc = await history([String(leak.pid), '--metric', 'rss']);
    expect(rows.length - 1).toBe(doc.series[0]?.points.length);
    expect(renderCsv(doc)).toBe(csv.stdout);
  });

  it('says what is wrong with a query', async () => {
    const unknown = await runCli(['history', '999999999', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no process with PID 999999999/);
    const bad = await runCli(['history', String(leak.pid), '--metric', 'bogus', '--db', db]);
    expect(bad.stderr).toMatch(/unknown metric "bogus"/);
    const none = await runCli(['history', '--db', db]);
    expect(none.stderr).toMatch(/exactly one of PID/);
    const missing = await runCli(['history', '1', '--db', join(dir, 'nope.db')]);
    expect(missing.stderr).toMatch(/no record database at/);
  });
});
