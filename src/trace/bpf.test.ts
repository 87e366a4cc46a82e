import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePidStat } from '../procfs/pid-stat.js';
import { ParseError } from '../util/errors.js';
import { startBusyRead, type BusyRead } from '../../test/fixtures/trace/busy-read.js';
import { BPF_HELPER, bpfHelperArgv, bpfRecords, bpfTrace, parseBpfOutput } from './bpf.js';
import { traceWithFallback } from './index.js';
import { ProfileBuilder } from './profile-builder.js';
import { hostArch } from './syscalls.js';
import { findOnPath, isRoot } from './tracer-process.js';
import type { SyscallProfile } from './types.js';

const FIX = join(import.meta.dirname, '../../test/fixtures/trace');
// procsleuth-bpfcount --pids 11098,11099 --ms 1000 --min-duty 1: busy-read (11098) and a python loop
// of select(20 ms) / read(/dev/null) / open(missing) (11099) that was still starting up.
const CAPTURED = readFileSync(`${FIX}/bpf-busy-read.json`, 'utf8');

describe('bpfHelperArgv', () => {
  it('passes the pids, the window, the fd syscalls of the arch and where arg0 is', () => {
    const argv = bpfHelperArgv('/h', { pids: [4, 5], durationMs: 1500.4, arch: 'x86_64' });
    expect(argv.slice(0, 5)).toEqual(['/h', '--pids', '4,5', '--ms', '1500']);
    expect(argv[argv.indexOf('--arg0-off') + 1]).toBe('112');
    expect(argv[argv.indexOf('--fd-nrs') + 1]!.split(',')).toContain('0'); // read
    expect(bpfHelperArgv('/h', { pids: [4], durationMs: 1, arch: 'aarch64' })).toContain('0');
  });

  it('refuses pids that are not positive integers', () => {
    expect(() => bpfHelperArgv('/h', { pids: [], durationMs: 1, arch: 'x86_64' })).toThrow(TypeError);
    expect(() => bpfHelperArgv('/h', { pids: [0], durationMs: 1, arch: 'x86_64' })).toThrow(TypeError);
    expect(() => bpfHelperArgv('/h', { pids: [1.5], durationMs: 1, arch: 'x86_64' })).toThrow(TypeError);
  });
});

describe('parseBpfOutput', () => {
  it('reads the captured counts, times and calls in flight', () => {
    const o = parseBpfOutput(CAPTURED);
    expect(o.bursts).toBe(1);
    expect(o.tracedNs).toBe(1000641112);
    const busy = o.calls.find((c) => c.pid === 11098)!;
    expect(busy).toEqual({
      pid: 11098,
      nr: 0,
      fd: 11,
      result: -11,
      count: 563199,
      timeNs: 326605625,
      maxNs: 198620,
      blocked: 0,
    });
    expect(o.inFlight).toEqual([{ tid: 11099, nr: 270, fd: -1, elapsedNs: 9214624 }]);
    expect(o.dropped).toBe(0);
  });

  it('takes the last JSON line (the helper prints nothing else on stdout, but be safe)', () => {
    expect(parseBpfOutput(`noise\n${CAPTURED}`).calls.length).toBe(parseBpfOutput(CAPTURED).calls.length);
  });

  it('rejects truncated or malformed output with a ParseError', () => {
    expect(() => parseBpfOutput('')).toThrow(ParseError);
    expect(() => parseBpfOutput(CAPTURED.slice(0, 200))).toThrow(ParseError);
    expect(() => parseBpfOutput('{"windowNs":1}')).toThrow(ParseError);
    expect(() =>
      parseBpfOutput(
        '{"windowNs":1,"tracedNs":1,"bursts":1,"duty":1,"calls":[[1,2,3]],"inFlight":[],"dropped":0}',
      ),
    ).toThrow(/needs 8 numbers/);
    expect(() =>
      parseBpfOutput(
        '{"windowNs":1,"tracedNs":1,"bursts":1,"duty":1,"calls":[],"inFlight":[[1,"x",3,4]],"dropped":0}',
      ),
    ).toThrow(ParseError);
  });
});

describe('bpfRecords', () => {
  it('gives per syscall and per fd the count, errno, zero returns and time', () => {
    const b = new ProfileBuilder('x86_64', true);
    for (const r of bpfRecords(parseBpfOutput(CAPTURED), 'x86_64')) b.add(r);
    const p = b.build({
      backend: 'bpf',
      unit: 'calls',
      pids: [11098, 11099],
      startedAt: '',
      durationMs: 1000,
      requestedDurationMs: 1000,
      overhead: { description: '' },
      notes: [],
    });
    const fd11 = p.fds.find((f) => f.pid === 11098 && f.fd === 11)!;
    expect(fd11.calls).toEqual([
      {
        name: 'read',
        count: 563199,
        errors: { EAGAIN: 563199 },
        zeroReturns: 0,
        totalTimeNs: 326605625,
        maxTimeNs: 198620,
        blockedCalls: 0,
      },
    ]);
    const py = p.perPid.find((x) => x.pid === 11099)!;
    const sel = py.syscalls.find((s) => s.name === 'pselect6')!;
    expect(sel).toMatchObject({ count: 24, zeroReturns: 24, blockedCalls: 24 });
    const openat = py.syscalls.find((s) => s.name === 'openat')!;
    expect(openat.errors).toEqual({ ENOENT: 45 });
    expect(openat.count).toBe(93 + 45);
    // /dev/null reads return 0 (end of file); fd 4 there
    expect(
      p.fds.find((f) => f.pid === 11099 && f.fd === 4)?.calls.find((c) => c.name === 'read'),
    ).toMatchObject({ zeroReturns: 49 });
  });
});

describe('a missing or refused helper is a typed error that falls through', () => {
  it('not built: TRACER_NOT_INSTALLED, and traceWithFallback goes on to the next backend', async () => {
    await expect(
      bpfTrace([1], { durationMs: 10, helper: '/nonexistent/procsleuth-bpfcount' }),
    ).rejects.toMatchObject({ code: 'TRACER_NOT_INSTALLED' });
    const next = (backend: SyscallProfile['backend']) => async (pids: number[]) => {
      const b = new ProfileBuilder('x86_64', false);
      return b.build({
        backend,
        unit: 'calls',
        pids,
        startedAt: '',
        durationMs: 1,
        requestedDurationMs: 1,
        overhead: { description: '' },
        notes: [],
      });
    };
    const p = await traceWithFallback([1], {
      durationMs: 10,
      backendOverrides: {
        bpf: (pids, o) => bpfTrace(pids, { ...o, helper: '/nonexistent/procsleuth-bpfcount' }),
        bpftrace: next('bpftrace'),
      },
    });
    expect(p.backend).toBe('bpftrace');
    expect(p.attempts?.[0]).toMatchObject({
      backend: 'bpf',
      outcome: 'skipped',
      code: 'TRACER_NOT_INSTALLED',
    });
  });

  const canDrop = isRoot() && existsSync(BPF_HELPER) && findOnPath('setpriv') !== undefined;
  it.skipIf(!canDrop)('refused by the kernel (run as nobody): TRACER_NOT_PERMITTED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procsleuth-bpf-'));
    try {
      const wrapper = join(dir, 'as-nobody');
      // The real helper, without root: BPF_PROG_LOAD of a tracing program says EPERM.
      writeFileSync(
        wrapper,
        `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups -- ${BPF_HELPER} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      await expect(bpfTrace([process.pid], { durationMs: 100, helper: wrapper })).rejects.toMatchObject({
        code: 'TRACER_NOT_PERMITTED',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const live = isRoot() && existsSync(BPF_HELPER) && findOnPath('cc') !== undefined;
if (!live)
  console.log('skipping bpf backend integration tests: needs root, cc and build/Release/procsleuth-bpfcount');

let br: BusyRead | undefined;
afterEach(async () => {
  await br?.stop();
  br = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our own helper processes: children of this process named procsleuth-bpfcount (comm is cut at 15). */
function helperPids(): number[] {
  const r = spawnSync('pgrep', ['-x', '-P', String(process.pid), 'procsleuth-bpfc'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

describe.skipIf(!live)('bpf backend on a busy poller (read(11) → EAGAIN)', () => {
  it('read on fd 11 with EAGAIN for each worker, timed, in bursts of a small share of the window', async () => {
    br = await startBusyRead({ workers: 2 });
    const p = await bpfTrace(br.pids, { durationMs: 2000 });
    expect(p.backend).toBe('bpf');
    expect(p.syscalls[0]?.name).toBe('read');
    for (const pid of br.pids) {
      const fd = p.fds.find((f) => f.pid === pid && f.fd === 11);
      expect(fd, `fd 11 of ${pid}`).toBeDefined();
      const read = fd!.calls.find((c) => c.name === 'read')!;
      expect(read.count).toBeGreaterThan(1000);
      expect(read.errors['EAGAIN']).toBe(read.count);
      expect(read.totalTimeNs).toBeGreaterThan(0);
      expect(read.blockedCalls!).toBeLessThan(read.count / 1000);
    }
    // A busy loop makes the helper trace only a few percent of the window.
    expect(p.sampling!.windowMs).toBeGreaterThan(1900);
    expect(p.sampling!.duty).toBeLessThan(0.25);
    expect(Math.abs(p.durationMs - p.sampling!.tracedMs)).toBeLessThan(1);
    expect(p.overhead.measuredSlowdown).toBeLessThanOrEqual(1.1);
  });

  it('a worker off the CPU through the first burst is still counted once it runs', async () => {
    // On a loaded machine a worker can wait through a whole 20 ms burst; at the duty the other worker
    // sets (~1 %) the next burst would come after the window. Stopped until the first burst is over,
    // the late worker cannot run at all then: it must be counted anyway, because bursts start again as
    // soon as it uses CPU.
    br = await startBusyRead({ workers: 2 });
    const [running, late] = br.pids as [number, number];
    process.kill(late, 'SIGSTOP');
    const [bin, ...args] = bpfHelperArgv(BPF_HELPER, { pids: br.pids, durationMs: 2000, arch: hostArch() });
    const child = spawn(bin!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => d.includes('attached') && resolve());
        child.once('exit', () => reject(new Error('the helper ended before it attached')));
      });
      await sleep(150); // the first burst (20 ms) is over
    } finally {
      process.kill(late, 'SIGCONT');
    }
    await exited;
    const o = parseBpfOutput(out);
    expect(o.duty).toBeLessThan(0.25);
    const count = (pid: number): number =>
      o.calls.filter((c) => c.pid === pid && c.fd === 11).reduce((n, c) => n + c.count, 0);
    expect(count(running)).toBeGreaterThan(100);
    expect(count(late), JSON.stringify({ bursts: o.bursts, duty: o.duty })).toBeGreaterThan(100);
  });

  it('a process that computes without making syscalls does not bring every burst forward', async () => {
    // It uses CPU and is never counted: were it "unseen" for good, each run of it would start a burst,
    // and the busy worker beside it would be traced half the window instead of a few percent.
    br = await startBusyRead({ workers: 1 });
    const spinner = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    try {
      await sleep(100);
      const p = await bpfTrace([...br.pids, spinner.pid!], { durationMs: 2000 });
      expect(p.sampling!.tracedMs, JSON.stringify(p.sampling)).toBeLessThan(0.25 * p.sampling!.windowMs);
    } finally {
      spinner.kill('SIGKILL');
    }
  });

  it('a process making few syscalls is traced the whole window', async () => {
    const sleeper = spawnSync('sh', ['-c', 'sleep 5 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const pid = Number(sleeper.stdout.trim());
    try {
      const p = await bpfTrace([pid], { durationMs: 600 });
      expect(p.sampling!.bursts).toBe(1);
      expect(p.sampling!.duty).toBeGreaterThan(0.9);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('interrupted mid-window: returns at once with what it counted, the helper gone, the target running', async () => {
    br = await startBusyRead({ workers: 1, reportMs: 50 });
    const ac = new AbortController();
    const t0 = performance.now();
    const pending = bpfTrace(br.pids, { durationMs: 20_000, signal: ac.signal });
    await sleep(700);
    ac.abort();
    const p = await pending;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(p.notes).toContain('trace interrupted before the end of the window');
    expect(p.totalCalls).toBeGreaterThan(0);
    expect(helperPids()).toEqual([]);
    const pid = br.pids[0]!;
    expect(parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state).not.toMatch(/^[tT]$/);
    const before = br.reports.at(-1)?.count ?? 0;
    await sleep(400);
    // A stopped process makes no progress at all; a loaded 2-CPU machine still allows thousands.
    expect((br.reports.at(-1)?.count ?? 0) - before).toBeGreaterThan(5_000);
  });

  it('the helper killed outright (SIGKILL) detaches its programs: the target runs at full speed again', async () => {
    br = await startBusyRead({ workers: 1, reportMs: 50 });
    const perCpuSecond = (): number => {
      const a = br!.reports.at(-9)!;
      const b = br!.reports.at(-1)!;
      return ((b.count - a.count) * 1e9) / (b.cpuNs - a.cpuNs);
    };
    await sleep(700);
    const untraced = perCpuSecond();
    const pending = bpfTrace(br.pids, { durationMs: 20_000, minDuty: 1 });
    await sleep(700);
    const traced = perCpuSecond();
    const helper = helperPids();
    expect(helper).toHaveLength(1);
    process.kill(helper[0]!, 'SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: 'TRACER_FAILED' });
    await sleep(700);
    // Attached all the time a call costs ~2× (per CPU second of the loop); gone, the cost is gone.
    expect(traced).toBeLessThan(0.8 * untraced);
    expect(perCpuSecond()).toBeGreaterThan(0.8 * untraced);
  });
});
