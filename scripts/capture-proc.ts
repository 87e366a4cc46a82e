/**
 * Copies what procsleuth reads from the live /proc into a directory of plain files, so the tree reads
 * as if live with `--proc-root DIR` (and git can store it: fd/N and exe become symlinks whose text is
 * the link text the kernel showed).
 *
 *   node --import tsx scripts/capture-proc.ts OUT_DIR [--pids all|PID,PID,…] [--sanitise]
 *        [--scene busy-cluster] [--max-file-kib 256] [--max-fds 256] [--max-tasks 32]
 *
 * --pids       which processes (default all); pids that exit during the capture are left out
 * --sanitise   the hostname becomes "capture-host"; /home/<user> becomes /home/user; values of
 *              secret-looking arguments (--password x, --token=x, API_KEY=x, user:pass@ in URLs)
 *              become "***"
 * --scene      start a known scene from test/helpers/scenarios.ts first and capture its processes
 *              (plus pid 1, kthreadd and ksoftirqd/0); see SCENES below
 *
 * Beside OUT_DIR it writes OUT_DIR.json: what the system's own tools (ps, ss, pmap, a readdir of
 * /proc/PID/fd) said about the same processes at capture time, run before AND after the copy; a
 * value that changed between the two runs is left out rather than recorded wrong. Tests compare
 * procsleuth's reading of the tree with those numbers.
 *
 * Kept small on purpose: a kernel thread gets stat, status and comm only; files over --max-file-kib
 * are left out (and listed in the JSON under `omitted`); at most --max-fds fds and --max-tasks
 * threads per process are copied.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isKernelThread, parsePidStat } from '../src/procfs/pid-stat.js';
import { startScenario, stopAllScenarios } from '../test/helpers/scenarios.js';

const PROC = '/proc';

/** Host files procsleuth reads (src/collect/host.ts, sockets.ts, net-addresses.ts). */
const HOST_FILES = [
  'loadavg',
  'uptime',
  'stat',
  'meminfo',
  'vmstat',
  'sys/kernel/hostname',
  'sys/kernel/osrelease',
  'sys/kernel/random/boot_id',
  'sys/fs/file-nr',
  'sys/fs/file-max',
  'sys/fs/nr_open',
  'sys/net/ipv4/tcp_mem',
  'sys/net/ipv4/tcp_max_orphans',
  'sys/net/ipv4/tcp_fin_timeout',
  'sys/net/ipv4/ip_local_port_range',
  'sys/net/core/somaxconn',
  'net/tcp',
  'net/tcp6',
  'net/udp',
  'net/udp6',
  'net/unix',
  'net/sockstat',
  'net/sockstat6',
  'net/fib_trie',
  'net/if_inet6',
];
/** Every file in these directories (pressure/irq exists on some kernels only). */
const HOST_DIRS = ['pressure'];

const KTHREAD_FILES = ['stat', 'status', 'comm'];
const PID_FILES = [
  'stat',
  'status',
  'comm',
  'cmdline',
  'statm',
  'io',
  'limits',
  'maps',
  'smaps',
  'smaps_rollup',
];
const TASK_FILES = ['stat', 'comm'];

export interface CaptureOptions {
  pids: number[] | 'all';
  sanitise: boolean;
  maxFileBytes: number;
  maxFds: number;
  maxTasks: number;
}

export interface CaptureResult {
  pids: number[];
  /** Pids that exited during the capture (their directories were removed). */
  vanished: number[];
  /** Files left out: too big, or unreadable. */
  omitted: { path: string; reason: string }[];
}

// ---------------------------------------------------------------------------------------- sanitising

const SANITISED_HOST = 'capture-host';
const SECRET_NAME = /(pass(word|wd)?|token|secret|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)$/i;

export interface Sanitiser {
  /** Free text (maps paths, link targets, net/unix): hostnames and home directories. */
  text(s: string): string;
  /** A NUL-separated argv: the above, plus secret values. */
  cmdline(s: string): string;
}

export function makeSanitiser(hostname: string): Sanitiser {
  const host = hostname.trim();
  // A short hostname ("vm") would match inside ordinary words (vmstat): only the hostname file then.
  const hostRe =
    host.length >= 4
      ? new RegExp(`(?<![A-Za-z0-9.-])${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9-])`, 'g')
      : undefined;
  const text = (s: string): string => {
    let out = s.replace(/\/home\/[^/\s\0]+/g, '/home/user').replace(/\/Users\/[^/\s\0]+/g, '/Users/user');
    if (hostRe) out = out.replace(hostRe, SANITISED_HOST);
    return out;
  };
  const cmdline = (s: string): string => {
    const trailing = s.endsWith('\0');
    const args = (trailing ? s.slice(0, -1) : s).split('\0');
    let secretNext = false;
    const outArgs = args.map((arg) => {
      if (secretNext && !arg.startsWith('-')) {
        secretNext = false;
        return '***';
      }
      secretNext = false;
      const a = arg.replace(/(\w+:\/\/[^/\s:@]+:)[^@\s]+@/g, '$1***@');
      const eq = /^(-{0,2}[A-Za-z0-9_.-]+)=(.*)$/s.exec(a);
      if (eq?.[1] !== undefined && SECRET_NAME.test(eq[1])) return `${text(eq[1])}=***`;
      // `--password hunter2`: the value is the next argument
      if (/^--?[A-Za-z0-9_.-]+$/.test(a) && SECRET_NAME.test(a)) secretNext = true;
      return text(a);
    });
    return outArgs.join('\0') + (trailing ? '\0' : '');
  };
  return { text, cmdline };
}

// ------------------------------------------------------------------------------------------- copying

function readFileMaybe(path: string): { ok: true; data: Buffer } | { ok: false; code: string } {
  try {
    return { ok: true, data: fs.readFileSync(path) };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

class Vanished extends Error {}

export function capture(out: string, o: CaptureOptions): CaptureResult {
  fs.mkdirSync(out, { recursive: true });
  const hostname = fs.readFileSync(`${PROC}/sys/kernel/hostname`, 'utf8');
  const san = o.sanitise ? makeSanitiser(hostname) : undefined;
  const result: CaptureResult = { pids: [], vanished: [], omitted: [] };

  const put = (rel: string, data: Buffer | string): void => {
    const dest = join(out, rel);
    fs.mkdirSync(dirname(dest), { recursive: true });
    fs.writeFileSync(dest, data);
  };
  const link = (rel: string, target: string): void => {
    const dest = join(out, rel);
    fs.mkdirSync(dirname(dest), { recursive: true });
    fs.rmSync(dest, { force: true });
    fs.symlinkSync(san ? san.text(target) : target, dest);
  };

  for (const f of HOST_FILES) {
    const r = readFileMaybe(`${PROC}/${f}`);
    if (!r.ok) {
      result.omitted.push({ path: f, reason: r.code });
      continue;
    }
    let text = r.data.toString('utf8');
    if (san) text = f === 'sys/kernel/hostname' ? `${SANITISED_HOST}\n` : san.text(text);
    put(f, text);
  }
  for (const d of HOST_DIRS) {
    let names: string[];
    try {
      names = fs.readdirSync(`${PROC}/${d}`);
    } catch (err) {
      result.omitted.push({ path: d, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      continue;
    }
    for (const n of names) {
      const r = readFileMaybe(`${PROC}/${d}/${n}`);
      if (r.ok) put(`${d}/${n}`, r.data);
      else result.omitted.push({ path: `${d}/${n}`, reason: r.code });
    }
  }

  const pids =
    o.pids === 'all'
      ? fs
          .readdirSync(PROC)
          .filter((n) => /^[1-9]\d*$/.test(n))
          .map(Number)
      : o.pids;
  for (const pid of pids.sort((a, b) => a - b)) {
    try {
      capturePid(pid, out, o, san, put, link, result);
      result.pids.push(pid);
    } catch (err) {
      if (!(err instanceof Vanished)) throw err;
      fs.rmSync(join(out, String(pid)), { recursive: true, force: true });
      result.vanished.push(pid);
    }
  }
  return result;
}

function capturePid(
  pid: number,
  out: string,
  o: CaptureOptions,
  san: Sanitiser | undefined,
  put: (rel: string, data: Buffer | string) => void,
  link: (rel: string, target: string) => void,
  result: CaptureResult,
): void {
  const src = `${PROC}/${pid}`;
  const stat = readFileMaybe(`${src}/stat`);
  if (!stat.ok) throw new Vanished();
  const kthread = isKernelThread(parsePidStat(stat.data.toString('utf8')));
  const copy = (rel: string, required: boolean): void => {
    const r = readFileMaybe(`${src}/${rel}`);
    if (!r.ok) {
      if (required && (r.code === 'ENOENT' || r.code === 'ESRCH')) throw new Vanished();
      result.omitted.push({ path: `${pid}/${rel}`, reason: r.code });
      return;
    }
    if (r.data.length > o.maxFileBytes) {
      result.omitted.push({ path: `${pid}/${rel}`, reason: `${r.data.length} bytes > --max-file-kib` });
      return;
    }
    let data: Buffer | string = r.data;
    if (san && rel.endsWith('cmdline')) data = san.cmdline(r.data.toString('utf8'));
    else if (san && /(^|\/)(maps|smaps)$/.test(rel)) data = san.text(r.data.toString('utf8'));
    put(`${pid}/${rel}`, data);
  };

  put(`${pid}/stat`, stat.data);
  for (const f of kthread ? KTHREAD_FILES : PID_FILES) if (f !== 'stat') copy(f, f === 'status');
  if (kthread) return;

  try {
    link(`${pid}/exe`, fs.readlinkSync(`${src}/exe`));
  } catch (err) {
    // A zombie has no exe: leave the link out, as the kernel does.
    result.omitted.push({ path: `${pid}/exe`, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }

  let fds: string[];
  try {
    fds = fs.readdirSync(`${src}/fd`).sort((a, b) => Number(a) - Number(b));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new Vanished();
    result.omitted.push({ path: `${pid}/fd`, reason: code ?? String(err) });
    fds = [];
  }
  fs.mkdirSync(join(out, String(pid), 'fd'), { recursive: true });
  fs.mkdirSync(join(out, String(pid), 'fdinfo'), { recursive: true });
  if (fds.length > o.maxFds)
    result.omitted.push({ path: `${pid}/fd`, reason: `${fds.length - o.maxFds} fds over --max-fds` });
  let unreadable = 0;
  for (const fd of fds.slice(0, o.maxFds)) {
    try {
      link(`${pid}/fd/${fd}`, fs.readlinkSync(`${src}/fd/${fd}`));
    } catch (err) {
      // closed between the listing and the readlink is normal; a denied link cannot be written down
      if ((err as NodeJS.ErrnoException).code === 'EACCES') unreadable++;
      continue;
    }
    copy(`fdinfo/${fd}`, false);
  }
  if (unreadable > 0) result.omitted.push({ path: `${pid}/fd`, reason: `${unreadable} links EACCES` });

  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`${src}/task`).sort((a, b) => Number(a) - Number(b));
  } catch {
    // gone meanwhile: the pid's own files are enough
  }
  if (tids.length > o.maxTasks)
    result.omitted.push({
      path: `${pid}/task`,
      reason: `${tids.length - o.maxTasks} threads over --max-tasks`,
    });
  for (const tid of tids.slice(0, o.maxTasks)) for (const f of TASK_FILES) copy(`task/${tid}/${f}`, false);
}

// ------------------------------------------------------------------------ what the real tools said

export interface ToolProcess {
  ppid?: number;
  uid?: number;
  state?: string;
  threads?: number;
  rssKiB?: number;
  vszKiB?: number;
  comm?: string;
  kernelThread?: boolean;
  fdCount?: number;
  /** From `ss -tanp`: this process's TCP sockets (counted per fd, as ss lists them) by state. */
  tcp?: Record<string, number>;
  /** From `pmap -d` (mapped, writeable/private, shared) and `pmap -x` (total Kbytes, RSS). */
  pmap?: { mappedKiB: number; writeablePrivateKiB: number; sharedKiB: number; rssKiB?: number };
}

export interface ToolReading {
  processes: Record<string, ToolProcess>;
  tcpStates: Record<string, number>;
  host: { kernel: string; cpus: number; memTotalBytes: number };
}

function tool(argv: string[]): string {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r.stdout;
}

/** ss's names for TCP states, to the kernel's (procsleuth's JSON uses the kernel's). */
const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

export function readWithTools(pids: number[]): ToolReading {
  const processes: Record<string, ToolProcess> = {};
  const ps = tool(['ps', '-o', 'pid=,ppid=,uid=,s=,nlwp=,rss=,vsz=,comm=', '-p', pids.join(',')]);
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)$/.exec(line);
    if (!m) continue;
    processes[m[1] as string] = {
      ppid: Number(m[2]),
      uid: Number(m[3]),
      state: m[4],
      threads: Number(m[5]),
      rssKiB: Number(m[6]),
      vszKiB: Number(m[7]),
      comm: m[8],
    };
  }
  for (const pid of pids) {
    const p = processes[pid];
    if (!p) continue;
    const stat = readFileMaybe(`${PROC}/${pid}/stat`);
    p.kernelThread = stat.ok ? isKernelThread(parsePidStat(stat.data.toString('utf8'))) : undefined;
    if (p.kernelThread) continue;
    try {
      p.fdCount = fs.readdirSync(`${PROC}/${pid}/fd`).length;
    } catch {
      // gone
    }
    if (p.state === 'Z') continue;
    const d = /mapped:\s+(\d+)K\s+writeable\/private:\s+(\d+)K\s+shared:\s+(\d+)K/.exec(
      tool(['pmap', '-d', String(pid)]),
    );
    const x = /^total kB\s+(\d+)\s+(\d+)/m.exec(tool(['pmap', '-x', String(pid)]));
    if (d)
      p.pmap = {
        mappedKiB: Number(d[1]),
        writeablePrivateKiB: Number(d[2]),
        sharedKiB: Number(d[3]),
        rssKiB: x ? Number(x[2]) : undefined,
      };
  }

  const tcpStates: Record<string, number> = {};
  for (const s of Object.values(SS_STATE)) tcpStates[s] = 0;
  for (const line of tool(['ss', '-tanp']).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const state = SS_STATE[f[0] ?? ''];
    if (!state) continue;
    tcpStates[state] = (tcpStates[state] ?? 0) + 1;
    for (const m of line.matchAll(/pid=(\d+),fd=\d+/g)) {
      const p = processes[m[1] as string];
      if (!p) continue;
      p.tcp ??= {};
      p.tcp[state] = (p.tcp[state] ?? 0) + 1;
    }
  }
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync(`${PROC}/meminfo`, 'utf8'));
  return {
    processes,
    tcpStates,
    host: {
      kernel: tool(['uname', '-r']).trim(),
      cpus: Number(tool(['nproc', '--all']).trim()),
      memTotalBytes: Number(mem?.[1]) * 1024,
    },
  };
}

/** Keeps what two readings agree on: a value that moved during the capture is not a fact about it. */
export function stableReading(a: ToolReading, b: ToolReading): { reading: ToolReading; unstable: string[] } {
  const unstable: string[] = [];
  const processes: Record<string, ToolProcess> = {};
  for (const [pid, pa] of Object.entries(a.processes)) {
    const pb = b.processes[pid];
    if (!pb) {
      unstable.push(`${pid}: exited`);
      continue;
    }
    const keep: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pa)) {
      const w = (pb as Record<string, unknown>)[k];
      if (JSON.stringify(v) === JSON.stringify(w)) keep[k] = v;
      else unstable.push(`${pid}.${k}: ${JSON.stringify(v)} then ${JSON.stringify(w)}`);
    }
    processes[pid] = keep as ToolProcess;
  }
  const tcpChanged = JSON.stringify(a.tcpStates) !== JSON.stringify(b.tcpStates);
  if (tcpChanged)
    unstable.push(`tcpStates: ${JSON.stringify(a.tcpStates)} then ${JSON.stringify(b.tcpStates)}`);
  return { reading: { processes, tcpStates: tcpChanged ? {} : a.tcpStates, host: a.host }, unstable };
}

// --------------------------------------------------------------------------------------------- scenes

interface Scene {
  pids: number[];
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

const SCENES: Record<string, () => Promise<Scene>> = {
  /**
   * busy-read with 4 workers spinning on a unix socket (the story's bug), a server leaking 6 sockets in
   * CLOSE_WAIT and holding 2 ESTABLISHED, a process sharing 8 MiB of anonymous memory and 4 MiB of
   * SysV shm with 2 children, a zombie, plus pid 1, kthreadd and ksoftirqd/0.
   */
  'busy-cluster': async () => {
    const sockets: net.Socket[] = [];
    let zombieParent: ChildProcess | undefined;
    const stop = async (): Promise<void> => {
      for (const s of sockets) s.destroy();
      zombieParent?.kill('SIGKILL');
      await stopAllScenarios();
    };
    try {
      const busy = await startScenario('busy-read', ['--workers', '4']);
      const cw = await startScenario('close-wait-server', []);
      const connect = (): Promise<net.Socket> =>
        new Promise((res, rej) => {
          const s = net.connect(cw.info.port, cw.info.addr, () => res(s));
          s.on('error', rej);
          sockets.push(s);
        });
      const closing: net.Socket[] = [];
      for (let i = 0; i < 6; i++) closing.push(await connect());
      for (let i = 0; i < 2; i++) await connect();
      await cw.waitForLine(/^ACCEPTED 8$/);
      for (const s of closing) s.end();
      await waitFor(() => countServerCloseWait(cw.info.port) === 6, 'six CLOSE_WAIT sockets');
      const shm = await startScenario('shm-map', ['--mib', '8', '--sysv-mib', '4', '--children', '2']);
      // sh forks `sleep 0` and execs into `sleep 600`, which never reaps it: a zombie child.
      zombieParent = spawn('sh', ['-c', 'sleep 0 & exec sleep 600'], { stdio: 'ignore' });
      const zp = zombieParent.pid;
      if (zp === undefined) throw new Error('cannot start the zombie parent');
      const zombie = await waitFor(() => childrenOf(zp).find((c) => stateOf(c) === 'Z'), 'a zombie');
      const ksoftirqd = fs
        .readdirSync(PROC)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .find(
          (p) =>
            readFileMaybe(`${PROC}/${p}/comm`).ok &&
            fs.readFileSync(`${PROC}/${p}/comm`, 'utf8').trim() === 'ksoftirqd/0',
        );
      const pids = [
        1,
        2,
        ...(ksoftirqd ? [ksoftirqd] : []),
        busy.pid,
        ...busy.info.pids,
        cw.pid,
        shm.pid,
        ...shm.info.pids,
        zp,
        zombie,
      ];
      return {
        pids,
        info: {
          'busy-read': { pid: busy.pid, ...busy.info },
          'close-wait-server': { ...cw.info, closeWait: 6, established: 2 },
          'shm-map': { pid: shm.pid, ...shm.info },
          zombie: { parent: zp, pid: zombie },
        },
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};

function countServerCloseWait(port: number): number {
  const out = tool(['ss', '-tanH', 'state', 'close-wait', `( sport = :${port} )`]);
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

function childrenOf(pid: number): number[] {
  const r = readFileMaybe(`${PROC}/${pid}/task/${pid}/children`);
  return r.ok ? r.data.toString().trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function stateOf(pid: number): string | undefined {
  const r = readFileMaybe(`${PROC}/${pid}/stat`);
  return r.ok ? parsePidStat(r.data.toString()).state : undefined;
}

async function waitFor<T>(f: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ----------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      pids: { type: 'string' },
      sanitise: { type: 'boolean' },
      scene: { type: 'string' },
      'max-file-kib': { type: 'string' },
      'max-fds': { type: 'string' },
      'max-tasks': { type: 'string' },
    },
  });
  const outArg = positionals[0];
  if (outArg === undefined) {
    process.stderr.write(
      'usage: capture-proc.ts OUT_DIR [--pids all|PID,PID] [--sanitise] [--scene busy-cluster]\n',
    );
    process.exit(2);
  }
  const out = resolve(outArg);
  const int = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));
  let scene: Scene | undefined;
  if (values.scene !== undefined) {
    const make = SCENES[values.scene];
    if (!make) throw new Error(`unknown scene ${values.scene}; one of ${Object.keys(SCENES).join(', ')}`);
    scene = await make();
  }
  try {
    const pids: number[] | 'all' =
      scene?.pids ??
      (values.pids === undefined || values.pids === 'all' ? 'all' : values.pids.split(',').map(Number));
    fs.rmSync(out, { recursive: true, force: true });
    const toolPids =
      pids === 'all'
        ? fs
            .readdirSync(PROC)
            .filter((n) => /^\d+$/.test(n))
            .map(Number)
        : pids;
    const before = readWithTools(toolPids);
    const result = capture(out, {
      pids,
      sanitise: values.sanitise === true,
      maxFileBytes: int(values['max-file-kib'], 256) * 1024,
      maxFds: int(values['max-fds'], 256),
      maxTasks: int(values['max-tasks'], 32),
    });
    const after = readWithTools(toolPids);
    const { reading, unstable } = stableReading(before, after);
    for (const pid of result.vanished) delete reading.processes[pid];
    // The tree cannot hold what the capture could not copy: no count to compare with then.
    for (const om of result.omitted) {
      const m = /^(\d+)\/fd$/.exec(om.path);
      const p = m ? reading.processes[m[1] as string] : undefined;
      if (p) delete p.fdCount;
    }
    const doc = {
      capturedAt: new Date().toISOString(),
      command: `node --import tsx scripts/capture-proc.ts ${process.argv.slice(2).join(' ')}`,
      sanitised: values.sanitise === true,
      hostname: values.sanitise
        ? SANITISED_HOST
        : fs.readFileSync(`${PROC}/sys/kernel/hostname`, 'utf8').trim(),
      scene: scene?.info,
      pids: result.pids,
      vanished: result.vanished,
      omitted: result.omitted,
      unstable,
      tools: reading,
    };
    fs.writeFileSync(`${out}.json`, JSON.stringify(doc, null, 2) + '\n');
    process.stdout.write(
      `captured ${result.pids.length} processes into ${out} (${result.vanished.length} vanished, ` +
        `${result.omitted.length} files omitted, ${unstable.length} unstable values)\n`,
    );
  } finally {
    await scene?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `capture-proc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
