/**
 * /proc/<pid>/fdinfo/<fd> — proc_pid_fdinfo(5): position, open flags, mount and inode of one fd, then
 * lines that depend on what the fd is.
 *
 *   pos:	0
 *   flags:	02004002
 *   mnt_id:	17
 *   ino:	1039
 *   eventfd-count:                7
 *
 * Extra lines parsed here (formats from fs/eventfd.c, fs/eventpoll.c, fs/notify/fdinfo.c, fs/timerfd.c):
 *   eventfd-count: %16llx (HEX)   eventfd-id: %d   eventfd-semaphore: %d
 *   tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x          (one per epoll target)
 *   inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x …               (one per watch)
 *   clockid: %d / ticks: %llu / settime flags: 0%o / it_value: (%llu, %llu) / it_interval: (…)
 * Every other `key: value` line is kept as text in `extra` (sigmask, Pid/NSpid of a pidfd, scm_fds…).
 *
 * `flags` is octal and its bits differ by architecture (O_DIRECTORY is 0200000 on x86_64, 040000 on
 * arm64), so decoding takes the arch of the machine the text came from.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export interface EpollTarget {
  fd: number;
  events: number;
  /** epoll_event.data as the program set it, in hex (a u64: often a pointer). */
  data: string;
  ino: number | undefined;
}

export interface InotifyWatch {
  wd: number;
  ino: number;
  sdev: number;
  mask: number;
  ignoredMask: number;
}

export interface TimerfdInfo {
  clockId: number | undefined;
  ticks: number | undefined;
  settimeFlags: number | undefined;
  itValueNs: number | undefined;
  itIntervalNs: number | undefined;
}

export interface PidFdinfo {
  posBytes: number;
  /** The open flags as a number (parsed from octal). */
  flags: number;
  accessMode: 'read' | 'write' | 'readwrite' | 'unknown';
  /** Names of the set flags other than the access mode (`O_NONBLOCK`, `O_CLOEXEC`…). */
  flagNames: string[];
  mntId: number | undefined;
  ino: number | undefined;
  eventfdCount: number | undefined;
  eventfdId: number | undefined;
  eventfdSemaphore: boolean | undefined;
  epollTargets: EpollTarget[] | undefined;
  inotifyWatches: InotifyWatch[] | undefined;
  timerfd: TimerfdInfo | undefined;
  extra: Record<string, string>;
}

type FlagTable = readonly (readonly [string, number])[];

// include/uapi/asm-generic/fcntl.h (x86_64 uses these)
const GENERIC: FlagTable = [
  ['O_CREAT', 0o100],
  ['O_EXCL', 0o200],
  ['O_NOCTTY', 0o400],
  ['O_TRUNC', 0o1000],
  ['O_APPEND', 0o2000],
  ['O_NONBLOCK', 0o4000],
  ['O_DSYNC', 0o10000],
  ['O_ASYNC', 0o20000],
  ['O_DIRECT', 0o40000],
  ['O_LARGEFILE', 0o100000],
  ['O_DIRECTORY', 0o200000],
  ['O_NOFOLLOW', 0o400000],
  ['O_NOATIME', 0o1000000],
  ['O_CLOEXEC', 0o2000000],
  ['O_SYNC', 0o4000000],
  ['O_PATH', 0o10000000],
  ['O_TMPFILE', 0o20000000],
];

// arch/arm64/include/uapi/asm/fcntl.h swaps four of them
const ARM64: FlagTable = GENERIC.map(([n, v]): readonly [string, number] => {
  const swapped: Record<string, number> = {
    O_DIRECTORY: 0o40000,
    O_NOFOLLOW: 0o100000,
    O_DIRECT: 0o200000,
    O_LARGEFILE: 0o400000,
  };
  return [n, swapped[n] ?? v];
});

/** Decode open flags; `arch` is a Node `process.arch` value. */
export function decodeOpenFlags(
  flags: number,
  arch: string = process.arch,
): { accessMode: PidFdinfo['accessMode']; names: string[] } {
  const table = arch === 'arm64' ? ARM64 : GENERIC;
  const acc = flags & 3;
  const accessMode = acc === 0 ? 'read' : acc === 1 ? 'write' : acc === 2 ? 'readwrite' : 'unknown';
  const names: string[] = [];
  for (const [name, bit] of table) if ((flags & bit) !== 0) names.push(name);
  // O_SYNC is __O_SYNC|O_DSYNC and O_TMPFILE is __O_TMPFILE|O_DIRECTORY: name only the whole
  const drop = (n: string): void => {
    const i = names.indexOf(n);
    if (i >= 0) names.splice(i, 1);
  };
  if (names.includes('O_SYNC')) drop('O_DSYNC');
  if (names.includes('O_TMPFILE')) drop('O_DIRECTORY');
  return { accessMode, names };
}

export function parsePidFdinfo(text: string, arch: string = process.arch): PidFdinfo {
  let pos: number | undefined;
  let flags: number | undefined;
  const r: Omit<PidFdinfo, 'posBytes' | 'flags' | 'accessMode' | 'flagNames'> = {
    mntId: undefined,
    ino: undefined,
    eventfdCount: undefined,
    eventfdId: undefined,
    eventfdSemaphore: undefined,
    epollTargets: undefined,
    inotifyWatches: undefined,
    timerfd: undefined,
    extra: {},
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    if (line.startsWith('tfd:')) {
      (r.epollTargets ??= []).push(parseTfd(line, lineNo));
      continue;
    }
    if (line.startsWith('inotify ')) {
      (r.inotifyWatches ??= []).push(parseInotify(line, lineNo));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('no "key:" in fdinfo line', { line: lineNo, token: line });
    const key = line.slice(0, colon);
    const v = line.slice(colon + 1).trim();
    switch (key) {
      case 'pos':
        pos = dec(v, key, lineNo);
        break;
      case 'flags':
        if (!/^[0-7]+$/.test(v)) throw new ParseError('bad flags', { line: lineNo, token: v });
        flags = parseInt(v, 8);
        break;
      case 'mnt_id':
        r.mntId = dec(v, key, lineNo);
        break;
      case 'ino':
        r.ino = dec(v, key, lineNo);
        break;
      case 'eventfd-count':
        if (!/^[0-9a-f]+$/.test(v)) throw new ParseError('bad eventfd-count', { line: lineNo, token: v });
        r.eventfdCount = parseInt(v, 16);
        break;
      case 'eventfd-id':
        r.eventfdId = dec(v, key, lineNo);
        break;
      case 'eventfd-semaphore':
        r.eventfdSemaphore = dec(v, key, lineNo) !== 0;
        break;
      case 'clockid':
        timer(r).clockId = dec(v, key, lineNo);
        break;
      case 'ticks':
        timer(r).ticks = dec(v, key, lineNo);
        break;
      case 'settime flags':
        if (!/^[0-7]+$/.test(v)) throw new ParseError('bad settime flags', { line: lineNo, token: v });
        timer(r).settimeFlags = parseInt(v, 8);
        break;
      case 'it_value':
        timer(r).itValueNs = timespec(v, lineNo);
        break;
      case 'it_interval':
        timer(r).itIntervalNs = timespec(v, lineNo);
        break;
      default:
        r.extra[key] = v;
    }
  }
  if (pos === undefined)
    throw new ParseError('no pos line in fdinfo', { token: text.slice(0, 60) || '<empty>' });
  if (flags === undefined) throw new ParseError('no flags line in fdinfo', { token: text.slice(0, 60) });
  const d = decodeOpenFlags(flags, arch);
  return { posBytes: pos, flags, accessMode: d.accessMode, flagNames: d.names, ...r };
}

function timer(r: { timerfd: TimerfdInfo | undefined }): TimerfdInfo {
  return (r.timerfd ??= {
    clockId: undefined,
    ticks: undefined,
    settimeFlags: undefined,
    itValueNs: undefined,
    itIntervalNs: undefined,
  });
}

function dec(v: string, key: string, line: number): number {
  if (!/^-?\d+$/.test(v)) throw new ParseError(`bad ${key}`, { line, token: v || '<missing>' });
  return Number(v);
}

function timespec(v: string, line: number): number {
  const m = /^\((\d+), (\d+)\)$/.exec(v);
  if (!m) throw new ParseError('bad timespec', { line, token: v });
  return Number(m[1]) * 1e9 + Number(m[2]);
}

/** Space-separated `key:value` pairs after a leading word, as in the tfd and inotify lines. */
function pairs(line: string, from: number): Map<string, string> {
  const out = new Map<string, string>();
  // `tfd:        5 events: 80000019 data:               2a  pos:0 …`: a value may follow its key after blanks
  const re = /([a-z_]+):\s*(\S+)/g;
  re.lastIndex = from;
  for (let m = re.exec(line); m; m = re.exec(line)) out.set(m[1] as string, m[2] as string);
  return out;
}

function need(p: Map<string, string>, key: string, radix: 10 | 16, line: string, lineNo: number): number {
  const v = p.get(key);
  const ok = v !== undefined && (radix === 16 ? /^[0-9a-f]+$/ : /^-?\d+$/).test(v);
  if (!ok) throw new ParseError(`bad ${key}`, { line: lineNo, token: line });
  return parseInt(v, radix);
}

function parseTfd(line: string, lineNo: number): EpollTarget {
  const p = pairs(line, 0);
  const data = p.get('data');
  if (data === undefined || !/^[0-9a-f]+$/.test(data))
    throw new ParseError('bad data', { line: lineNo, token: line });
  return {
    fd: need(p, 'tfd', 10, line, lineNo),
    events: need(p, 'events', 16, line, lineNo),
    data,
    ino: p.has('ino') ? need(p, 'ino', 16, line, lineNo) : undefined,
  };
}

function parseInotify(line: string, lineNo: number): InotifyWatch {
  const p = pairs(line, 'inotify '.length);
  return {
    wd: need(p, 'wd', 16, line, lineNo),
    ino: need(p, 'ino', 16, line, lineNo),
    sdev: need(p, 'sdev', 16, line, lineNo),
    mask: need(p, 'mask', 16, line, lineNo),
    ignoredMask: need(p, 'ignored_mask', 16, line, lineNo),
  };
}

export function readPidFdinfo(procRoot: string, pid: number, fd: number): Read<PidFdinfo> {
  return readParsed(`${procRoot}/${pid}/fdinfo/${fd}`, true, (t) => parsePidFdinfo(t));
}
