/**
 * Groups: processes of the same executable and normalised arguments — twelve workers of one daemon,
 * across restarts and PIDs, are one group.
 *
 * Arguments are normalised so that per-instance noise does not split a group: pure numbers (also
 * after an underscore: `session_4711`), hex ids of 8+ digits and UUIDs become '#', and so does the
 * random part of a path component under a temporary directory (`--db /tmp/run-AbC123/x.db` →
 * `--db /tmp/run-#/x.db`), which mkdtemp(3) and mktemp(1) make different for every run.
 * `nginx: worker process` and `postgres: 12/main: writer` stay as-is.
 */
import type { ProcessInfo } from './types.js';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX = /\b(?:0x)?[0-9a-f]{8,}\b/gi;
// A digit run not inside a word (an underscore separates, unlike in \b: `worker_12`, `x86_64`).
const NUM = /(?<![A-Za-z0-9])\d+(?![A-Za-z0-9])/g;
/** A temporary directory and the path below it, up to a blank or a list separator. */
const TEMP_PATH = /(\/(?:var\/)?tmp|\/dev\/shm|\/run\/user\/\d+)((?:\/[^/\s,;:]+)+)/g;
/** A component's suffix after a separator: `run-AbC123`, `tmp.k3J9dk2LQz`. */
const SUFFIX = /^(.*?[-._])([A-Za-z0-9]{6,})$/;

export function normaliseArgs(args: readonly string[]): string {
  return args
    .map((a) => a.replace(TEMP_PATH, tempPath).replace(UUID, '#').replace(HEX, '#').replace(NUM, '#'))
    .join(' ');
}

function tempPath(_: string, dir: string, rest: string): string {
  return dir + rest.split('/').map(tempComponent).join('/');
}

/** The random part of one component, as mkdtemp/mktemp make it: letters and digits mixed, or mixed case. */
function tempComponent(c: string): string {
  const m = SUFFIX.exec(c);
  if (m && looksRandom(m[2] as string)) return `${m[1]}#`;
  return c.length >= 6 && /^[A-Za-z0-9]+$/.test(c) && looksRandom(c) ? '#' : c;
}

function looksRandom(s: string): boolean {
  return (/\d/.test(s) && /[A-Za-z]/.test(s)) || (/[a-z]/.test(s) && /[A-Z]/.test(s));
}

/** The executable is the best identity; a kernel thread or an unreadable exe falls back to comm. */
export function groupKey(p: Pick<ProcessInfo, 'exe' | 'argv' | 'comm' | 'kernelThread'>): string {
  if (p.kernelThread) return `[${p.comm.replace(/\d+/g, '#')}]`;
  const exe = p.exe?.replace(/ \(deleted\)$/, '') ?? p.argv[0] ?? p.comm;
  return `${exe}\u0000${normaliseArgs(p.argv.slice(1))}`;
}

/** A short human label for a group: the command line with normalised arguments. */
export function groupLabel(key: string): string {
  return key.replace('\u0000', ' ').trim();
}

export interface ProcessGroup {
  key: string;
  label: string;
  comm: string;
  pids: number[];
  count: number;
  cpuPercent: number | undefined;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  anonBytes: number | undefined;
  swapBytes: number | undefined;
  fdCount: number | undefined;
  threads: number;
  socketCount: number | undefined;
}

export function groupProcesses(processes: readonly ProcessInfo[]): ProcessGroup[] {
  const byKey = new Map<string, ProcessInfo[]>();
  for (const p of processes) {
    const k = groupKey(p);
    const list = byKey.get(k);
    if (list) list.push(p);
    else byKey.set(k, [p]);
  }
  return [...byKey].map(([key, ps]) => ({
    key,
    label: groupLabel(key),
    comm: ps[0]?.comm ?? '',
    pids: ps.map((p) => p.pid),
    count: ps.length,
    cpuPercent: sum(ps, (p) => p.cpuPercent),
    rssBytes: sum(ps, (p) => p.rssBytes),
    pssBytes: sum(ps, (p) => p.pssBytes),
    anonBytes: sum(ps, (p) => p.anonBytes),
    swapBytes: sum(ps, (p) => p.swapBytes),
    fdCount: sum(ps, (p) => p.fdCount),
    threads: ps.reduce((n, p) => n + p.threads, 0),
    socketCount: sum(ps, (p) =>
      p.sockets ? p.sockets.tcpTotal + p.sockets.udp + p.sockets.unix + p.sockets.other : undefined,
    ),
  }));
}

/** Sum of the known values; undefined when none is known (unknown is not zero). */
function sum<T>(xs: readonly T[], f: (x: T) => number | undefined): number | undefined {
  let total: number | undefined;
  for (const x of xs) {
    const v = f(x);
    if (v !== undefined) total = (total ?? 0) + v;
  }
  return total;
}
