/**
 * Micro benchmark: parsing /proc/net/tcp and tcp6 at the size of a busy host (40,000 sockets by default).
 *
 *   node --import tsx bench/parse-net-tcp.ts [lines] [--file /proc/net/tcp]
 *
 * Generates text in the kernel's exact layout (seq_printf formats of net/ipv4/tcp_ipv4.c and
 * net/ipv6/tcp_ipv6.c) with a realistic spread: a few hundred peers, mostly ESTABLISHED and TIME_WAIT.
 * Prints the median over runs for our parser, for a naive split/regex parser (the ~180 ms baseline
 * DESIGN.md measured), and for countTcpStates; `--file` parses a real file instead.
 */
import { readFileSync } from 'node:fs';
import { countTcpStates, parseNetTcp, parseNetTcp6 } from '../src/procfs/net-tcp.js';

const args = process.argv.slice(2);
const fileAt = args.indexOf('--file');
const file = fileAt >= 0 ? args[fileAt + 1] : undefined;
const lines = Number(args.find((a) => /^\d+$/.test(a)) ?? 40_000);
const RUNS = 15;

const hex = (v: number, w: number): string => v.toString(16).toUpperCase().padStart(w, '0');
const STATES = [1, 1, 1, 1, 1, 6, 6, 6, 8, 10, 5, 2];

function generate(n: number, v6: boolean): string {
  const out: string[] = [];
  out.push(
    v6
      ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'
      : '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  );
  for (let i = 0; i < n; i++) {
    const st = STATES[i % STATES.length] ?? 1;
    // 10.0.x.y peers, little-endian words as the kernel prints them.
    const peer = 10 | (((i * 7) % 3) << 16) | ((i % 250) << 24);
    const local = 10 | (1 << 24);
    const addr = (w: number): string => (v6 ? `0000000000000000FFFF0000${hex(w >>> 0, 8)}` : hex(w >>> 0, 8));
    const sl = String(i).padStart(4, ' ');
    const lp = hex(st === 10 ? 443 : 32768 + (i % 28000), 4);
    const rp = hex(st === 10 ? 0 : 443, 4);
    if (st === 6) {
      out.push(
        `${sl}: ${addr(local)}:${lp} ${addr(peer)}:${rp} 06 00000000:00000000 03:${hex(i % 6000, 8)} 00000000     0        0 0 3 0000000000000000`,
      );
    } else {
      const tail = ' 2 0000000000000000 20 4 30 10 -1                     ';
      out.push(
        `${sl}: ${addr(local)}:${lp} ${addr(st === 10 ? 0 : peer)}:${rp} ${hex(st, 2)} ${hex(i % 3 === 0 ? 0 : i % 5000, 8)}:${hex(i % 7 === 0 ? 1000 : 0, 8)} ${i % 11 === 0 ? '02' : '00'}:${hex(i % 11 === 0 ? 7000 : 0, 8)} 00000000  1000        0 ${100000 + i}${tail}`,
      );
    }
  }
  // Through a Buffer, like readText: a flat sequential string, not the rope join() builds.
  return Buffer.from(out.join('\n') + '\n').toString('utf8');
}

function naive(text: string): number {
  // What a first attempt looks like: split lines, regex-split fields, parseInt each, an object per row.
  const rows: object[] = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    const [la, lp] = (f[1] ?? '').split(':');
    const [ra, rp] = (f[2] ?? '').split(':');
    const [tx, rx] = (f[4] ?? '').split(':');
    const ip = (h: string | undefined): string =>
      (h ?? '')
        .match(/../g)!
        .reverse()
        .map((b) => parseInt(b, 16))
        .join('.');
    rows.push({
      local: ip(la),
      localPort: parseInt(lp ?? '', 16),
      remote: ip(ra),
      remotePort: parseInt(rp ?? '', 16),
      state: parseInt(f[3] ?? '', 16),
      tx: parseInt(tx ?? '', 16),
      rx: parseInt(rx ?? '', 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return rows.length;
}

/**
 * Median wall time of RUNS runs, and the median CPU time of this process over the same runs (what a
 * busy 2-core machine does not distort as much: time spent waiting for a core is not counted).
 */
function time(fn: () => void): { median: number; cpu: number } {
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return { median: mid(times), cpu: mid(cpus) };
}

const v4 = file !== undefined ? readFileSync(file, 'utf8') : generate(lines, false);
const v6 = file !== undefined ? undefined : generate(lines, true);
const n = v4.split('\n').length - 2;
const per10k = (t: { median: number; cpu: number }): string => {
  const k = (ms: number): string => ((ms * 10_000) / Math.max(n, 1)).toFixed(2);
  return `wall ${t.median.toFixed(2)} ms (${k(t.median)} ms/10k lines), cpu ${t.cpu.toFixed(2)} ms (${k(t.cpu)} ms/10k)`;
};

const parse = file?.endsWith('6') ? parseNetTcp6 : parseNetTcp;
// A one-shot command parses once, mostly before the optimiser has caught up: report that call too.
const c0 = process.hrtime.bigint();
const table = parse(v4);
const coldMs = Number(process.hrtime.bigint() - c0) / 1e6;
console.log(
  `${n} lines, ${table.addresses.length} distinct addresses; first (cold) call ${coldMs.toFixed(2)} ms`,
);
console.log(`parseNetTcp        ${per10k(time(() => parse(v4)))}`);
if (v6 !== undefined) console.log(`parseNetTcp6       ${per10k(time(() => parseNetTcp6(v6)))}`);
console.log(`countTcpStates     ${per10k(time(() => countTcpStates([table])))}`);
console.log(`naive split/regex  ${per10k(time(() => naive(v4)))}`);
