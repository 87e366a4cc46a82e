/**
 * Micro benchmark: the TCP tables through /proc/net/tcp{,6} (read + parse) against netlink sock_diag
 * (the native addon, src/procfs/inet-diag.ts), in one warm process, on the live host.
 *
 *   node --import tsx bench/state.ts up        # 35,000 TCP sockets on loopback
 *   node --import tsx bench/inet-diag.ts [--runs 7]
 *   node --import tsx bench/state.ts down
 *
 * Candidates, each for IPv4 + IPv6 together, rotated from round to round so drift hits all alike:
 * - `/proc text only`: just reading the two files (the kernel formats them: this is its system time);
 * - `/proc read+parse`: readNetTcp + readNetTcp6, every state (/proc cannot filter);
 * - `sock_diag all`: readInetDiag(4|6, 'tcp'), every state;
 * - `sock_diag 5 states`: TIME_WAIT, SYN_RECV, LAST_ACK, CLOSE_WAIT, ESTABLISHED, filtered in the kernel
 *   (the states `procsleuth sockets` reports);
 * - `sock_diag 4, no ESTAB`: the same without ESTABLISHED, to show what the kernel's filter saves when
 *   the states asked for are a minority (the kernel's cost is per socket it sends, ~1 µs here).
 * Prints best and median wall time and median user / system CPU of each, and the rows each returned.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { inetDiagAvailable, inetDiagUnavailableReason, readInetDiag } from '../src/procfs/inet-diag.js';
import { readNetTcp, readNetTcp6, type InetSocketTable, type TcpStateName } from '../src/procfs/net-tcp.js';
import { readSockstat } from './state.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);

const SOME: TcpStateName[] = ['TIME_WAIT', 'SYN_RECV', 'LAST_ACK', 'CLOSE_WAIT', 'ESTABLISHED'];

if (!inetDiagAvailable()) {
  console.error(`sock_diag addon unavailable: ${inetDiagUnavailableReason() ?? '?'} (npm run install?)`);
  process.exit(1);
}

const rows = (ts: (InetSocketTable | undefined)[]): number => ts.reduce((n, t) => n + (t?.length ?? 0), 0);
const diag = (states?: TcpStateName[]): number =>
  rows([readInetDiag(4, 'tcp', states), readInetDiag(6, 'tcp', states)]);

const candidates: { name: string; run: () => number }[] = [
  {
    name: '/proc text only',
    run: () => readFileSync('/proc/net/tcp').length + readFileSync('/proc/net/tcp6').length,
  },
  { name: '/proc read+parse', run: () => rows([readNetTcp('/proc'), readNetTcp6('/proc')]) },
  { name: 'sock_diag all', run: () => diag() },
  { name: 'sock_diag 5 states', run: () => diag(SOME) },
  { name: 'sock_diag 4, no ESTAB', run: () => diag(SOME.filter((s) => s !== 'ESTABLISHED')) },
];

interface Sample {
  ms: number;
  userMs: number;
  sysMs: number;
  out: number;
}
const samples = new Map<string, Sample[]>(candidates.map((c) => [c.name, []]));

function once(c: (typeof candidates)[number]): Sample {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = c.run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, userMs: cpu.user / 1000, sysMs: cpu.system / 1000, out };
}

for (const c of candidates) once(c); // warm-up: JIT, page cache, the addon's first load
for (let round = 0; round < RUNS; round++) {
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[(round + k) % candidates.length];
    if (c !== undefined) samples.get(c.name)?.push(once(c));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const f = (x: number): string => x.toFixed(1).padStart(7);

const sock = readSockstat();
console.log(
  `TCP sockets (sockstat): inuse ${sock.tcpInuse ?? '?'}, time-wait ${sock.tcpTw ?? '?'}; ${RUNS} runs, warm`,
);
console.log(`${'candidate'.padEnd(22)} ${'best ms'} ${'median'} ${' user'}  ${'  sys'}  output`);
const base = median((samples.get('/proc read+parse') ?? []).map((s) => s.ms));
for (const c of candidates) {
  const s = samples.get(c.name) ?? [];
  const med = median(s.map((x) => x.ms));
  const out = s[0]?.out ?? 0;
  console.log(
    `${c.name.padEnd(22)} ${f(Math.min(...s.map((x) => x.ms)))} ${f(med)} ${f(median(s.map((x) => x.userMs)))} ${f(median(s.map((x) => x.sysMs)))}  ${c.name === '/proc text only' ? `${(out / 1e6).toFixed(1)} MB` : `${out} rows`}  (${(base / med).toFixed(1)}× vs read+parse)`,
  );
}
