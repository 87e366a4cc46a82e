/**
 * The fleet half of issue 7 against the real engine: three recorders as three named nodes push with
 * remote write into one Prometheus (Debian's package, loopback, temporary data directory); then
 * `leaks --prometheus` and `spikes --prometheus` read it back with `query_range`.
 *
 * Three nodes on one machine: every recorder would see the same processes. Each recorder gets its own
 * view of the machine instead, like a container with its own PID namespace: a directory that links every
 * host-wide file of /proc (stat, meminfo, loadavg, net/…, sys/…) and only that node's process
 * directories, given as `--proc-root`. The recorders read live kernel data through it — the leak grows
 * and the spinners burn for real — so the only difference between the nodes is which processes run on
 * them, which is what the test is about. (Host series are the same on the three nodes: one kernel.)
 *
 * node1 runs a steady heap leak (mem-leak) and a spinner; node2 and node3 run a spinner each. The three
 * spinners are started together and begin burning after the same delay.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startCli, type Running } from '../record/helpers.js';
import { runCli } from '../helpers/cli.js';
import { startScenario, stopAllScenarios, type RunningScenario } from '../helpers/scenarios.js';
import { validate } from '../helpers/schema.js';
import { Prometheus, freePort, havePrometheus } from './prometheus.js';
import type { FleetLeaksDocument, FleetSpikesDocument } from '../../src/fleet/analyze.js';

const run = havePrometheus || process.env['CI'] ? describe : describe.skip;

const INTERVAL = '500ms';
/** Spinners burn after this long: ~16 samples of baseline on every node. */
const SPIN_DELAY_MS = 8_000;
/** Recording goes on this long after the onset (the leak then has ~32 samples, MIN_SAMPLES is 24). */
const AFTER_MS = 8_000;

let dir: string;
let prom: Prometheus | undefined;
const recorders: Running[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-fleet-analysis-'));
});

afterAll(async () => {
  for (const r of recorders)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await stopAllScenarios();
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A /proc that shows every host-wide file but only the given processes. */
function procView(root: string, pids: readonly number[]): string {
  mkdirSync(root, { recursive: true });
  for (const name of readdirSync('/proc'))
    if (!/^\d+$/.test(name)) symlinkSync(`/proc/${name}`, join(root, name));
  for (const pid of pids) symlinkSync(`/proc/${pid}`, join(root, String(pid)));
  return root;
}

run('fleet analysis through Prometheus', () => {
  it('finds the leak on its node only, and one CPU onset shared by 3 of 3 nodes', async () => {
    prom = new Prometheus({
      dir: mkdtempSync(join(dir, 'prom-')),
      port: await freePort(),
      config: 'global:\n  scrape_interval: 1m\n',
    });
    await prom.start();

    const startedMs = Date.now();
    const spinArgs = ['--threads', '1', '--delay-ms', String(SPIN_DELAY_MS)];
    const [leak, ...spins] = (await Promise.all([
      startScenario('mem-leak', ['--mode', 'steady', '--kib', '256', '--interval-ms', '100']),
      startScenario('spin', spinArgs),
      startScenario('spin', spinArgs),
      startScenario('spin', spinArgs),
    ])) as [RunningScenario<'mem-leak'>, ...RunningScenario<'spin'>[]];
    const spinAt = Date.now() + SPIN_DELAY_MS;
    const views: Record<string, number[]> = {
      node1: [leak.pid, spins[0]!.pid],
      node2: [spins[1]!.pid],
      node3: [spins[2]!.pid],
    };
    for (const [node, pids] of Object.entries(views)) {
      const rec = startCli([
        'record',
        '--interval',
        INTERVAL,
        // the socket pass (host TCP states: the traffic of spikes) is the costly read on a busy host
        '--pass',
        '4s',
        '--db',
        join(dir, `${node}.db`),
        '--proc-root',
        procView(join(dir, node, 'proc'), pids),
        '--remote-write',
        `${prom.url}/api/v1/write`,
        '--node',
        node,
      ]);
      recorders.push(rec);
    }
    await Promise.all(recorders.map((r) => r.waitFor((l) => l.event === 'remote-write')));
    await sleep(Math.max(0, spinAt + AFTER_MS - Date.now()));
    for (const r of recorders) r.child.kill('SIGTERM');
    for (const r of recorders) expect((await r.exited).code).toBe(0);
    await stopAllScenarios();

    const range = ['--since', new Date(startedMs - 2_000).toISOString(), '--until', new Date().toISOString()];

    const l = await runCli(['leaks', '--prometheus', prom.url, ...range, '--json']);
    expect(l.stderr).toBe('');
    expect(l.code).toBe(1); // a leak was found
    const leaks = JSON.parse(l.stdout) as FleetLeaksDocument;
    expect(validate('leaks', leaks)).toEqual([]);
    expect(leaks.source).toMatchObject({ kind: 'prometheus', nodes: ['node1', 'node2', 'node3'] });
    expect(leaks.scanned.nodes).toBe(3);
    const found = leaks.suspects.filter((s) => s.verdict === 'leak');
    expect(found.length).toBeGreaterThan(0);
    for (const s of found) {
      expect(s.entity).toMatchObject({ kind: 'group', node: 'node1' });
      expect(s.entity.group).toMatch(/mem-leak/);
    }
    expect(found.map((s) => s.metric)).toContain('anon');
    // node2 and node3 ran only spinners: nothing there grows
    expect(leaks.suspects.filter((s) => (s.entity as { node?: string }).node !== 'node1')).toEqual([]);

    const sp = await runCli(['spikes', '--prometheus', prom.url, ...range, '--json']);
    expect(sp.stderr).toBe('');
    const spikes = JSON.parse(sp.stdout) as FleetSpikesDocument;
    expect(validate('spikes', spikes)).toEqual([]);
    const nodesOfSpin = new Set(
      spikes.spikes
        .filter((s) => s.entity.kind === 'group' && /spin/.test(s.entity.group ?? ''))
        .map((s) => (s.entity as { node?: string }).node),
    );
    expect([...nodesOfSpin].sort()).toEqual(['node1', 'node2', 'node3']);
    expect(spikes.fleetEvents).toHaveLength(1);
    const e = spikes.fleetEvents[0]!;
    expect(e.group).toMatch(/spin/);
    expect([...e.nodes].sort()).toEqual(['node1', 'node2', 'node3']);
    expect([e.nodesTotal, e.nodesRunning]).toEqual([3, 3]);
    // started together: the onsets are within a couple of samples of each other and of the burn
    // Started together: the onsets lie within a few samples of each other and of the burn (a loaded
    // machine delays samples, and spinAt is taken after the READY lines, a little after the start).
    expect(e.spreadMs).toBeLessThanOrEqual(3_000);
    expect(e.onsetMs - spinAt).toBeGreaterThan(-2_000);
    expect(e.onsetMs - spinAt).toBeLessThan(4_000);
    expect(e.persistent).toBe(true);
    expect(e.summary).toMatch(/^CPU of group .*spin.* rose on 3 of 3 nodes within /);
    expect(e.suggests).toMatch(/shared input/);

    // the text output says the same
    const text = await runCli(['spikes', '--prometheus', prom.url, ...range]);
    expect(text.stdout).toMatch(/across nodes:\n {2}CPU of group .* rose on 3 of 3 nodes/);
    const lt = await runCli(['leaks', '--prometheus', prom.url, ...range]);
    expect(lt.stdout).toMatch(
      /^leaks: \d+ leaks?, \d+ to watch, on 3 nodes from http:\/\/127\.0\.0\.1:\d+\n {2}nodes: node1, node2, node3\n/,
    );
    expect(lt.stdout).toMatch(/\nLEAK +group \S*mem-leak.* on node1\n/);
  });
});
