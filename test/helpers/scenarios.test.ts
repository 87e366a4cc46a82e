/**
 * Each scenario program starts, reaches READY, and really produces the state it claims — checked with
 * the system's own tools (ss, strace) and /proc, the way a person would check it by hand.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/util/spawn.js';
import {
  formatTable,
  missingReason,
  roundOrder,
  runBench,
  stats,
  type BenchResult,
  type CandidateResult,
} from '../../bench/harness.js';
import { planHolders, spread } from '../../bench/state.js';
import {
  compileScenario,
  startScenario,
  stopAllScenarios,
  type RunningScenario,
  type ScenarioName,
} from './scenarios.js';

const running: RunningScenario<ScenarioName>[] = [];
async function start<N extends ScenarioName>(name: N, args: string[] = []): Promise<RunningScenario<N>> {
  const s = await startScenario(name, args);
  running.push(s as unknown as RunningScenario<ScenarioName>);
  return s;
}
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
afterAll(stopAllScenarios);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `State:` letter of a process, or undefined once it is gone (a zombie shows as Z). */
function procState(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function statusKib(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Lines of `ss -tanH <filter...>`: one per socket. */
async function ssLines(...filter: string[]): Promise<string[]> {
  const r = await run(['ss', '-tanH', ...filter], { timeoutMs: 10_000 });
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

async function eventually<T>(f: () => T | Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function procTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

describe('busy-read', () => {
  it('spins on read(11) of a non-blocking unix socket, EAGAIN every time', async () => {
    const s = await start('busy-read', ['--workers', '2']);
    expect(s.info.pids).toHaveLength(2);
    expect(s.info.fd).toBe(11);
    expect(s.info.peerPid).toBe(s.pid);
    expect(lstatSync(s.info.path).isSocket()).toBe(true);
    for (const w of s.info.pids) {
      expect(readlinkSync(`/proc/${w}/fd/11`)).toMatch(/^socket:\[\d+\]$/);
      // fdinfo flags are octal; O_NONBLOCK is 04000
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${w}/fdinfo/11`, 'utf8'))?.[1];
      expect(parseInt(flags ?? '0', 8) & 0o4000).not.toBe(0);
      // the workers hold nothing but stdio and fd 11: fork's copies were closed
      expect(readdirSync(`/proc/${w}/fd`).sort()).toEqual(['0', '1', '11', '2']);
    }
    const w0 = s.info.pids[0]!;
    const t0 = procTicks(w0);
    const tr = await run(['strace', '-p', String(w0), '-e', 'trace=read'], {
      timeoutMs: 300,
      killSignal: 'SIGINT',
    });
    expect(tr.stderr).toMatch(/read\(11, .*\) += -1 EAGAIN/);
    expect(tr.stderr).not.toMatch(/read\(11, .*\) += [0-9]/);
    await new Promise((r) => setTimeout(r, 300));
    expect(procTicks(w0) - t0).toBeGreaterThan(5); // it burns CPU: at least 50 ms in 0.6 s
    const path = s.info.path;
    await s.stop();
    expect(existsSync(path)).toBe(false);
    for (const w of [s.pid, ...s.info.pids])
      expect(
        await eventually(
          () => alive(w),
          (a) => !a,
        ),
      ).toBe(false);
  });

  it('uses a socketpair when asked, with the peer end held by the main process', async () => {
    const s = await start('busy-read', ['--workers', '1', '--socketpair', '1', '--pause-us', '1000']);
    expect(s.info.socketpair).toBe(true);
    expect(s.info.path).toBe('');
    const w = s.info.pids[0]!;
    expect(readlinkSync(`/proc/${w}/fd/11`)).toMatch(/^socket:/);
    // fds 1 and 2 are Node's stdio socketpairs: look past them
    const ours = readdirSync(`/proc/${s.pid}/fd`)
      .filter((fd) => Number(fd) > 2)
      .map((fd) => readlinkSync(`/proc/${s.pid}/fd/${fd}`));
    expect(ours.filter((t) => t.startsWith('socket:'))).toHaveLength(1);
  });
});

describe('close-wait-server', () => {
  it('leaves one CLOSE_WAIT socket, owned by the server, per client that hung up', async () => {
    const s = await start('close-wait-server');
    const port = s.info.port;
    expect(port).toBeGreaterThan(0);
    const M = 5;
    const clients: Socket[] = [];
    for (let i = 0; i < M; i++) {
      clients.push(
        await new Promise<Socket>((res, rej) => {
          const c = connect(port, '127.0.0.1', () => res(c));
          c.once('error', rej);
        }),
      );
    }
    await s.waitForLine(new RegExp(`^ACCEPTED ${M}$`));
    for (const c of clients) c.end();
    const cw = await eventually(
      () => ssLines('-p', 'state', 'close-wait', 'sport', '=', `:${port}`),
      (l) => l.length >= M,
    );
    expect(cw).toHaveLength(M);
    for (const line of cw) expect(line).toContain(`pid=${s.pid},`);
    for (const c of clients) c.destroy();
  });
});

describe('fd-leak', () => {
  it('holds the requested number of fds under a lowered RLIMIT_NOFILE', async () => {
    const s = await start('fd-leak', ['--limit', '64', '--open', '50']);
    expect(s.info).toMatchObject({ limit: 64, fds: 50, kind: 'file' });
    expect(readdirSync(`/proc/${s.pid}/fd`)).toHaveLength(50);
    expect(readFileSync(`/proc/${s.pid}/limits`, 'utf8')).toMatch(/^Max open files\s+64\s+/m);
  });

  it('leaks one more per interval until the limit says no', async () => {
    const s = await start('fd-leak', [
      '--limit',
      '40',
      '--open',
      '30',
      '--interval-ms',
      '10',
      '--kind',
      'pipe',
    ]);
    expect(await s.waitForLine(/^EMFILE /)).toBe('EMFILE 40');
    expect(readdirSync(`/proc/${s.pid}/fd`)).toHaveLength(40);
    const targets = readdirSync(`/proc/${s.pid}/fd`).map((fd) => readlinkSync(`/proc/${s.pid}/fd/${fd}`));
    expect(targets.filter((t) => t.startsWith('pipe:')).length).toBeGreaterThanOrEqual(36);
  });

  it('refuses a target above the limit', async () => {
    await expect(startScenario('fd-leak', ['--limit', '10', '--open', '20'])).rejects.toThrow(
      /exceeds --limit/,
    );
  });
});

describe('shm-map', () => {
  it('maps /dev/zero (deleted) and a SysV segment, both resident as shmem', async () => {
    const s = await start('shm-map', ['--mib', '16', '--sysv-mib', '4']);
    const maps = readFileSync(`/proc/${s.pid}/maps`, 'utf8').split('\n');
    const zero = maps.find((l) => l.endsWith('/dev/zero (deleted)'));
    const sysv = maps.find((l) => / \/SYSV[0-9a-f]{8} \(deleted\)$/.test(l));
    expect(zero).toBeDefined();
    expect(sysv).toBeDefined();
    const size = (l: string): number => {
      const [a, b] = (l.split(' ')[0] ?? '').split('-');
      return parseInt(b ?? '0', 16) - parseInt(a ?? '0', 16);
    };
    expect(size(zero!)).toBe(16 << 20);
    expect(size(sysv!)).toBe(4 << 20);
    expect(zero).toMatch(/ rw-s /);
    expect(statusKib(s.pid, 'RssShmem')).toBeGreaterThanOrEqual(20 * 1024);
    // IPC_RMID at once: the segment is not listed under a key and disappears with the process
    const shmid = s.info.shmid;
    expect(readFileSync('/proc/sysvipc/shm', 'utf8')).toMatch(new RegExp(`^\\s+0\\s+${shmid}\\s`, 'm'));
    await s.stop();
    const listed = (): string[] =>
      readFileSync('/proc/sysvipc/shm', 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/)[1] ?? '');
    expect(listed()).not.toContain(String(shmid));
  });

  it('shares the mapping with forked children', async () => {
    const s = await start('shm-map', ['--mib', '8', '--children', '2']);
    expect(s.info.pids).toHaveLength(2);
    for (const c of s.info.pids) {
      expect(readFileSync(`/proc/${c}/maps`, 'utf8')).toContain('/dev/zero (deleted)');
    }
  });
});

describe('mem-leak', () => {
  it('steady: RSS grows by kib per tick', async () => {
    const s = await start('mem-leak', ['--mode', 'steady', '--kib', '2048', '--interval-ms', '20']);
    const before = statusKib(s.pid, 'VmRSS');
    await s.waitForLine(/^HELD 20480 /);
    expect(statusKib(s.pid, 'VmRSS') - before).toBeGreaterThanOrEqual(18 * 1024);
  });

  it('sawtooth frees for real (RSS falls) and keeps a flat floor; sawtooth-leak raises its floor', async () => {
    const held = (lines: string[]): number[] => lines.map((l) => Number(l.split(' ')[1]));
    const saw = await start('mem-leak', [
      '--mode',
      'sawtooth',
      '--kib',
      '4096',
      '--interval-ms',
      '15',
      '--period',
      '4',
    ]);
    const leak = await start('mem-leak', [
      ...['--mode', 'sawtooth-leak', '--kib', '1024', '--interval-ms', '15', '--period', '4'],
    ]);
    await saw.waitForLine(/^HELD \d+ 6$/);
    // tick 6 is 2 ticks after a drop: 2 × 4 MiB held; the RSS agrees within a MiB
    expect(Math.abs(statusKib(saw.pid, 'VmRSS') - 2 * 4096)).toBeLessThan(3 * 1024);
    await saw.waitForLine(/^HELD \d+ 12$/);
    await leak.waitForLine(/^HELD \d+ 12$/);
    // ticks 4, 8, 12 are the drops: the floors
    expect(held(saw.lines.slice(0, 12)).filter((_, i) => (i + 1) % 4 === 0)).toEqual([0, 0, 0]);
    expect(held(leak.lines.slice(0, 12)).filter((_, i) => (i + 1) % 4 === 0)).toEqual([1024, 2048, 3072]);
  });

  it('plateau stops at the cap; step jumps once; noise stays bounded', async () => {
    const plateau = await start('mem-leak', [
      '--mode',
      'plateau',
      '--kib',
      '512',
      '--interval-ms',
      '10',
      '--cap-kib',
      '2048',
    ]);
    const step = await start('mem-leak', [
      '--mode',
      'step',
      '--interval-ms',
      '10',
      '--step-after',
      '3',
      '--step-kib',
      '4096',
    ]);
    const noise = await start('mem-leak', [
      '--mode',
      'noise',
      '--kib',
      '256',
      '--interval-ms',
      '10',
      '--base-kib',
      '1024',
    ]);
    await Promise.all([plateau, step, noise].map((s) => s.waitForLine(/^HELD \d+ 10$/)));
    const held = (s: RunningScenario<'mem-leak'>): number[] =>
      s.lines.slice(0, 10).map((l) => Number(l.split(' ')[1]));
    expect(held(plateau)).toEqual([512, 1024, 1536, 2048, 2048, 2048, 2048, 2048, 2048, 2048]);
    expect(held(step)).toEqual([0, 0, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096]);
    for (const h of held(noise)) expect(h >= 1024 && h <= 1024 + 512).toBe(true);
  });

  it('rejects an unknown mode', async () => {
    await expect(startScenario('mem-leak', ['--mode', 'bogus'])).rejects.toThrow(/unknown --mode bogus/);
  });
});

describe('spin', () => {
  it('starts burning only after the delay', async () => {
    const s = await start('spin', ['--threads', '1', '--delay-ms', '400']);
    const t0 = procTicks(s.pid);
    await new Promise((r) => setTimeout(r, 200));
    expect(procTicks(s.pid) - t0).toBeLessThanOrEqual(2);
    await s.waitForLine(/^SPINNING$/);
    await new Promise((r) => setTimeout(r, 300));
    // at least 50 ms of CPU in 300 ms, even on a busy 2-core machine
    expect(procTicks(s.pid) - t0).toBeGreaterThanOrEqual(5);
  });

  it('forks processes in procs mode', async () => {
    const s = await start('spin', ['--threads', '2', '--procs', '1', '--duration-ms', '100']);
    expect(s.info.mode).toBe('procs');
    expect(s.info.pids).toHaveLength(2);
    for (const p of s.info.pids) expect(readFileSync(`/proc/${p}/stat`, 'utf8')).toContain(` ${s.pid} `);
  });
});

describe('holder', () => {
  it('holds established, CLOSE_WAIT and TIME_WAIT connections and leaves no TIME_WAIT on stop', async () => {
    const s = await start('holder', [
      ...[
        '--established',
        '200',
        '--close-wait',
        '20',
        '--time-wait',
        '30',
        '--group',
        '251',
        '--sources',
        '4',
      ],
    ]);
    const port = String(s.info.port);
    expect(s.info.sources).toEqual(['127.1.251.1', '127.1.251.2', '127.1.251.3', '127.1.251.4']);
    const est = await ssLines(
      'state',
      'established',
      '(',
      'sport',
      '=',
      `:${port}`,
      'or',
      'dport',
      '=',
      `:${port}`,
      ')',
    );
    expect(est).toHaveLength(400); // both ends of 200 connections
    expect(await ssLines('state', 'close-wait', 'sport', '=', `:${port}`)).toHaveLength(20);
    expect(await ssLines('state', 'time-wait', 'dport', '=', `:${port}`)).toHaveLength(30);
    expect(readdirSync(`/proc/${s.pid}/fd`).length).toBeGreaterThanOrEqual(420);
    const remotes = new Set(est.flatMap((l) => l.match(/127\.1\.251\.\d+/g) ?? []));
    for (const a of s.info.sources) expect(remotes.has(a)).toBe(true);
    await s.stop();
    // the abortive close sends RST: no new TIME_WAIT from the 200 live connections
    expect(
      await ssLines('state', 'time-wait', '(', 'sport', '=', `:${port}`, 'or', 'dport', '=', `:${port}`, ')'),
    ).toHaveLength(30);
    expect(await ssLines('state', 'established', 'sport', '=', `:${port}`)).toHaveLength(0);
  });
});

describe('sleepers', () => {
  it('forks N sleeping children and reaps them on stop (no zombies)', async () => {
    const s = await start('sleepers', ['--count', '20']);
    expect(s.info.count).toBe(20);
    expect(new Set(s.info.pids).size).toBe(20);
    const states = await eventually(
      () => s.info.pids.map(procState),
      (st) => st.every((x) => x === 'S'),
    );
    expect(states.every((x) => x === 'S')).toBe(true);
    await s.stop();
    for (const p of s.info.pids) expect(procState(p)).toBeUndefined();
  });
});

describe('helper', () => {
  it("reports the program's own message when it dies before READY", async () => {
    await expect(startScenario('spin', ['--threds', '2'])).rejects.toThrow(/unknown option --threds/);
  });

  it('caches the compiled binary by content', async () => {
    const a = await compileScenario('spin');
    expect(await compileScenario('spin')).toBe(a);
    expect(a).toMatch(/procsleuth-scenarios\/spin-[0-9a-f]{16}$/);
  });

  it('workers die with a main process killed by SIGKILL (no cleanup handler ran)', async () => {
    const s = await start('spin', ['--threads', '2', '--procs', '1', '--duration-ms', '50']);
    // SIGKILL the main process behind the helper's back: the workers die by PDEATHSIG
    // (dead means gone, or a zombie waiting for pid 1 to reap it)
    process.kill(s.pid, 'SIGKILL');
    const dead = (st: string | undefined): boolean => st === undefined || st === 'Z';
    for (const p of s.info.pids) expect(dead(await eventually(() => procState(p), dead))).toBe(true);
    await s.stop(); // harmless on a dead group
  });

  it('time-exec reports wall and CPU time in microseconds on fd 3', async () => {
    const bin = await compileScenario('time-exec');
    const child = spawn(bin, ['bash', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdio[3]?.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code).toBe(3);
    const r = JSON.parse(out) as Record<string, number>;
    expect(r.exitCode).toBe(3);
    expect(r.userUs! + r.sysUs!).toBeGreaterThan(1000);
    expect(r.wallUs!).toBeGreaterThanOrEqual(r.userUs! * 0.9);
    expect(r.maxRssKib!).toBeGreaterThan(100);
  });
});

describe('bench harness and bench state (pure parts, and timing real peers)', () => {
  it('stats: median of odd and even counts, nearest-rank p90', () => {
    expect(stats([5, 1, 3])).toMatchObject({ median: 3, min: 1, max: 5, p90: 5 });
    expect(stats([4, 1, 3, 2])?.median).toBe(2.5);
    const ten = stats([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(ten?.p90).toBe(9);
    expect(stats([])).toBeUndefined();
  });

  it('roundOrder rotates the starting candidate and runs each once per round', () => {
    expect(roundOrder(3, 0)).toEqual([0, 1, 2]);
    expect(roundOrder(3, 1)).toEqual([1, 2, 0]);
    expect(roundOrder(3, 5)).toEqual([2, 0, 1]);
    expect(roundOrder(0, 2)).toEqual([]);
  });

  it('planHolders keeps every holder under its fd budget and the totals exact', () => {
    const plan = planHolders({ connections: 20_000, timeWait: 2000, closeWait: 1000, fdsPerHolder: 4000 });
    expect(plan).toHaveLength(9);
    const sum = (k: 'established' | 'closeWait' | 'timeWait'): number => plan.reduce((a, h) => a + h[k], 0);
    expect([sum('established'), sum('closeWait'), sum('timeWait')]).toEqual([17_000, 1000, 2000]);
    for (const h of plan) expect(2 * h.established + h.closeWait + 16).toBeLessThanOrEqual(4000);
    expect(spread(10, 3)).toEqual([4, 3, 3]);
    expect(() => planHolders({ connections: 10, timeWait: 8, closeWait: 8, fdsPerHolder: 4000 })).toThrow();
  });

  it('reports a missing program or file instead of running it', () => {
    expect(missingReason({ name: 'x', commands: [['no-such-program-here']] })).toMatch(/not installed/);
    expect(missingReason({ name: 'x', commands: [['ss']], requires: ['no/such/file.js'] })).toMatch(
      /no\/such\/file\.js does not exist/,
    );
    expect(missingReason({ name: 'x', commands: [['ss', '-s'], ['ps']] })).toBeUndefined();
  });

  it('times peers round-robin, flags a failing one, and writes the JSON', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'bench-out-'));
    try {
      const r = await runBench(
        {
          name: 'selftest',
          baseline: 'ss -s',
          candidates: [
            { name: 'ss -s', commands: [['ss', '-s']] },
            {
              name: 'ps + ss',
              commands: [
                ['ps', '-e'],
                ['ss', '-s'],
              ],
            },
            { name: 'false', commands: [['false']] },
            { name: 'missing', commands: [['node', 'bin/procsleuth.js']], requires: ['dist/no-such.js'] },
          ],
        },
        { runs: 3, warmup: 1, outDir },
      );
      const by = (n: string): CandidateResult => r.results.find((c) => c.name === n)!;
      expect(by('ss -s').samples).toHaveLength(3);
      expect(by('ss -s').wallRatioToBaseline).toBe(1);
      expect(by('ps + ss').samples[0]?.exitCodes).toEqual([0, 0]);
      // two commands take longer than one of them
      expect(by('ps + ss').wallMs!.median).toBeGreaterThan(by('ss -s').wallMs!.min);
      expect(by('false').failed).toMatch(/false: exit 1/);
      expect(by('missing')).toMatchObject({ available: false, samples: [] });
      const json = JSON.parse(readFileSync(join(outDir, 'selftest.json'), 'utf8')) as BenchResult;
      expect(json.schema).toBe('procsleuth.bench/1');
      expect(json.baseline).toEqual({ requested: 'ss -s', used: 'ss -s' });
      const table = formatTable(r);
      expect(table).toMatch(/ss -s \(baseline\)/);
      expect(table).toMatch(/missing\s+MISSING: dist\/no-such\.js does not exist/);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
