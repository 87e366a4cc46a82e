/**
 * The bench state of the foundation issue: 1,000 extra sleeping processes and 20,000 TCP connections
 * on loopback, some of them in TIME_WAIT and CLOSE_WAIT. Benches time procsleuth and its peers on
 * this same state, so their numbers compare with the cost facts in DESIGN.md.
 *
 * How the connections are made (test/scenarios/holder.c): each holder process is both ends of its
 * connections, so one established connection is two sockets and two fds there. RLIMIT_NOFILE cannot
 * go past the hard limit (20,000 on the bench VM), so the connections are spread over holders of at
 * most `fdsPerHolder` fds each. Every holder listens on its own port and connects from its own
 * source addresses 127.1.<holder>.<1..8> (IP_BIND_ADDRESS_NO_PORT), which keeps every
 * (source, destination) pair far below the ~28,000 ports of ip_local_port_range.
 *
 * `connections` counts every connection made: `timeWait` of them end in TIME_WAIT on the client side
 * (no fd; the holder re-creates them every 59 s since TIME_WAIT lasts 60 s), `closeWait` end in
 * CLOSE_WAIT on the server side (the client end sits in FIN_WAIT2 for tcp_fin_timeout), the rest stay
 * ESTABLISHED at both ends. The defaults give ~34,000 ESTABLISHED sockets, 2,000 TIME_WAIT and
 * 1,000 CLOSE_WAIT: about the "~36,000 TCP sockets" machine of DESIGN.md.
 *
 * Module: `const state = await setupBenchState(opts); …; await state.teardown()`.
 * CLI:    `node --import tsx bench/state.ts up|down|status [--processes N] [--connections N] …`;
 *         `up` leaves the programs running (their process groups are written to a state file) and
 *         `down` stops exactly those groups.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startScenario, type RunningScenario, type ScenarioName } from '../test/helpers/scenarios.js';

export interface BenchStateOptions {
  /** Extra sleeping processes (default 1,000). */
  processes?: number;
  /** TCP connections on loopback, all kinds together (default 20,000). */
  connections?: number;
  /** Of those, how many are kept in TIME_WAIT (default 2,000). */
  timeWait?: number;
  /** Of those, how many are left in CLOSE_WAIT (default 1,000). */
  closeWait?: number;
  /** Most fds one holder process may use (default 4,000; capped by the hard RLIMIT_NOFILE). */
  fdsPerHolder?: number;
  /** Leave the programs running after this Node process exits (the CLI's `up`). */
  detach?: boolean;
  log?: (line: string) => void;
}

export interface BenchStateInfo {
  processes: number;
  connections: number;
  established: number;
  timeWait: number;
  closeWait: number;
  holders: { pid: number; port: number; established: number; closeWait: number; timeWait: number }[];
  /** Process group ids of everything started (each program leads its own group). */
  pgids: number[];
  /** What the kernel says once the state is up (/proc/net/sockstat and a process count). */
  observed: { tcpInuse?: number; tcpTw?: number; processCount: number };
  startedAt: string;
  setupMs: number;
}

export interface BenchState {
  info: BenchStateInfo;
  teardown(): Promise<void>;
}

export const DEFAULT_STATE: Required<Omit<BenchStateOptions, 'detach' | 'log'>> = {
  processes: 1000,
  connections: 20_000,
  timeWait: 2000,
  closeWait: 1000,
  fdsPerHolder: 4000,
};

/** Where `up` records what it started, for `down` and for bench/run.ts to reuse. */
export const STATE_FILE = join(tmpdir(), 'procsleuth-bench-state.json');

/** Splits `total` into `parts` integers that differ by at most one. */
export function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** How many holders, and what each holds; pure so it can be checked without starting anything. */
export function planHolders(
  o: Pick<Required<BenchStateOptions>, 'connections' | 'timeWait' | 'closeWait' | 'fdsPerHolder'>,
): { established: number; closeWait: number; timeWait: number }[] {
  const established = o.connections - o.timeWait - o.closeWait;
  if (established < 0) throw new Error('connections must be at least timeWait + closeWait');
  // fds: two per established connection, one per CLOSE_WAIT, a few spare (listener, stdio)
  const perHolder = o.fdsPerHolder - 16;
  const fds = 2 * established + o.closeWait;
  const n = Math.max(1, Math.ceil(fds / perHolder));
  const e = spread(established, n);
  const c = spread(o.closeWait, n);
  const t = spread(o.timeWait, n);
  return e.map((est, i) => ({ established: est, closeWait: c[i] ?? 0, timeWait: t[i] ?? 0 }));
}

export async function setupBenchState(opts: BenchStateOptions = {}): Promise<BenchState> {
  const o = { ...DEFAULT_STATE, ...opts };
  const log = opts.log ?? ((): void => undefined);
  const started = performance.now();
  const running: RunningScenario<ScenarioName>[] = [];
  const teardown = async (): Promise<void> => {
    // holders first: their abortive close must not race the sleepers' exit for the CPU
    for (const s of running.splice(0).reverse()) await s.stop();
  };
  const plan = planHolders(o);
  if (plan.length > 250) throw new Error(`${plan.length} holders: raise fdsPerHolder`);
  try {
    log(`starting ${o.processes} sleeping processes`);
    const sleepers = await startScenario('sleepers', ['--count', String(o.processes)], {
      detach: opts.detach,
      readyTimeoutMs: 60_000,
    });
    running.push(sleepers as unknown as RunningScenario<ScenarioName>);
    const holders: BenchStateInfo['holders'] = [];
    for (const [i, h] of plan.entries()) {
      log(
        `holder ${i + 1}/${plan.length}: ${h.established} established, ${h.closeWait} CLOSE_WAIT, ${h.timeWait} TIME_WAIT`,
      );
      const s = await startScenario(
        'holder',
        [
          ...['--established', String(h.established), '--close-wait', String(h.closeWait)],
          ...['--time-wait', String(h.timeWait), '--group', String(i + 1), '--sources', '8'],
        ],
        { detach: opts.detach, readyTimeoutMs: 120_000 },
      );
      running.push(s as unknown as RunningScenario<ScenarioName>);
      holders.push({ pid: s.pid, port: s.info.port, ...h });
    }
    const sockstat = readSockstat();
    const info: BenchStateInfo = {
      processes: o.processes,
      connections: o.connections,
      established: o.connections - o.timeWait - o.closeWait,
      timeWait: o.timeWait,
      closeWait: o.closeWait,
      holders,
      pgids: running.map((s) => s.pid),
      observed: { ...sockstat, processCount: countProcesses() },
      startedAt: new Date().toISOString(),
      setupMs: Math.round(performance.now() - started),
    };
    log(
      `bench state up in ${info.setupMs} ms: ${info.observed.processCount} processes, ` +
        `tcp inuse ${String(sockstat.tcpInuse)}, tw ${String(sockstat.tcpTw)}`,
    );
    return { info, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** TCP `inuse` and `tw` from /proc/net/sockstat. */
export function readSockstat(): { tcpInuse?: number; tcpTw?: number } {
  try {
    const line = /^TCP: (.*)$/m.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? '';
    const num = (k: string): number | undefined => {
      const m = new RegExp(`\\b${k} (\\d+)`).exec(line);
      return m?.[1] !== undefined ? Number(m[1]) : undefined;
    };
    return { tcpInuse: num('inuse'), tcpTw: num('tw') };
  } catch {
    return {};
  }
}

export function countProcesses(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

/** The state file written by `up`, if the groups it names are still ours and alive. */
export function readStateFile(): BenchStateInfo | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  const info = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as BenchStateInfo;
  return info.pgids.some(isOurs) ? info : undefined;
}

/** A pid is one of our scenario programs (not a reused pid of something else). */
function isOurs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('procsleuth-scenarios/');
  } catch {
    return false;
  }
}

/** Stops the groups recorded by `up`: SIGTERM to each leader (holders reset their connections), then SIGKILL. */
export async function stopDetached(info: BenchStateInfo): Promise<void> {
  const mine = info.pgids.filter(isOurs);
  for (const pid of mine) signal(pid, 'SIGTERM');
  const end = Date.now() + 5000;
  while (Date.now() < end && mine.some(isOurs)) await new Promise((r) => setTimeout(r, 50));
  for (const pid of mine) signal(-pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function cli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      processes: { type: 'string' },
      connections: { type: 'string' },
      'time-wait': { type: 'string' },
      'close-wait': { type: 'string' },
      'fds-per-holder': { type: 'string' },
    },
  });
  const cmd = positionals[0];
  const log = (l: string): void => void process.stderr.write(`bench-state: ${l}\n`);
  const num = (s: string | undefined, d: number): number => (s === undefined ? d : Number(s));
  if (cmd === 'up') {
    if (readStateFile() !== undefined) {
      log(`already up (${STATE_FILE}); run "down" first`);
      return 1;
    }
    const state = await setupBenchState({
      processes: num(values.processes, DEFAULT_STATE.processes),
      connections: num(values.connections, DEFAULT_STATE.connections),
      timeWait: num(values['time-wait'], DEFAULT_STATE.timeWait),
      closeWait: num(values['close-wait'], DEFAULT_STATE.closeWait),
      fdsPerHolder: num(values['fds-per-holder'], DEFAULT_STATE.fdsPerHolder),
      detach: true,
      log,
    });
    writeFileSync(STATE_FILE, JSON.stringify(state.info, null, 2));
    log(`state file ${STATE_FILE}`);
    return 0;
  }
  if (cmd === 'down') {
    if (!existsSync(STATE_FILE)) {
      log('not up');
      return 0;
    }
    const info = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as BenchStateInfo;
    await stopDetached(info);
    rmSync(STATE_FILE, { force: true });
    log(`stopped ${info.pgids.length} process groups`);
    return 0;
  }
  if (cmd === 'status') {
    const info = readStateFile();
    process.stdout.write(
      JSON.stringify(
        { up: info !== undefined, ...readSockstat(), processCount: countProcesses(), info },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  log(
    'usage: bench/state.ts up|down|status [--processes N] [--connections N] [--time-wait N] [--close-wait N]',
  );
  return 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await cli(process.argv.slice(2));
}
