/**
 * /proc/<pid>/status — proc_pid_status(5).
 *
 *   Name:	zoo
 *   State:	S (sleeping)
 *   Uid:	0	0	0	0
 *   VmRSS:	    8572 kB
 *
 * One `Key:<TAB>value` per line. Kernel threads have no Vm and Rss lines (no mm): those fields are then
 * undefined, as is every line an older kernel does not print (RssAnon/RssFile/RssShmem since 4.5,
 * NSpid since 4.1). `Name` is escaped by the kernel (`\n` for a newline, `\\` for a backslash), unlike
 * `comm`; we unescape it.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

/** Real, effective, saved set and filesystem id, as on the Uid:/Gid: lines. */
export interface IdSet {
  real: number;
  effective: number;
  saved: number;
  filesystem: number;
}

export interface PidStatus {
  name: string;
  /** The state letter (`S`); the word after it (`sleeping`) is in `stateName`. */
  state: string;
  stateName: string | undefined;
  tgid: number;
  pid: number;
  ppid: number;
  tracerPid: number | undefined;
  uid: IdSet | undefined;
  gid: IdSet | undefined;
  /** Size of the fd table (not the number of open fds). */
  fdSize: number | undefined;
  /** Pid in each pid namespace, outermost first. */
  nsPid: number[] | undefined;
  kthread: boolean | undefined;
  threads: number | undefined;
  vmPeakBytes: number | undefined;
  vmSizeBytes: number | undefined;
  vmLckBytes: number | undefined;
  vmPinBytes: number | undefined;
  vmHwmBytes: number | undefined;
  vmRssBytes: number | undefined;
  rssAnonBytes: number | undefined;
  rssFileBytes: number | undefined;
  rssShmemBytes: number | undefined;
  vmDataBytes: number | undefined;
  vmStkBytes: number | undefined;
  vmExeBytes: number | undefined;
  vmLibBytes: number | undefined;
  vmPteBytes: number | undefined;
  vmSwapBytes: number | undefined;
  hugetlbPagesBytes: number | undefined;
  voluntaryCtxtSwitches: number | undefined;
  nonvoluntaryCtxtSwitches: number | undefined;
}

type KbField =
  | 'vmPeakBytes'
  | 'vmSizeBytes'
  | 'vmLckBytes'
  | 'vmPinBytes'
  | 'vmHwmBytes'
  | 'vmRssBytes'
  | 'rssAnonBytes'
  | 'rssFileBytes'
  | 'rssShmemBytes'
  | 'vmDataBytes'
  | 'vmStkBytes'
  | 'vmExeBytes'
  | 'vmLibBytes'
  | 'vmPteBytes'
  | 'vmSwapBytes'
  | 'hugetlbPagesBytes';

const KB: ReadonlyMap<string, KbField> = new Map<string, KbField>([
  ['VmPeak', 'vmPeakBytes'],
  ['VmSize', 'vmSizeBytes'],
  ['VmLck', 'vmLckBytes'],
  ['VmPin', 'vmPinBytes'],
  ['VmHWM', 'vmHwmBytes'],
  ['VmRSS', 'vmRssBytes'],
  ['RssAnon', 'rssAnonBytes'],
  ['RssFile', 'rssFileBytes'],
  ['RssShmem', 'rssShmemBytes'],
  ['VmData', 'vmDataBytes'],
  ['VmStk', 'vmStkBytes'],
  ['VmExe', 'vmExeBytes'],
  ['VmLib', 'vmLibBytes'],
  ['VmPTE', 'vmPteBytes'],
  ['VmSwap', 'vmSwapBytes'],
  ['HugetlbPages', 'hugetlbPagesBytes'],
]);

type IntField =
  | 'tgid'
  | 'pid'
  | 'ppid'
  | 'tracerPid'
  | 'fdSize'
  | 'threads'
  | 'voluntaryCtxtSwitches'
  | 'nonvoluntaryCtxtSwitches';

const INT: ReadonlyMap<string, IntField> = new Map<string, IntField>([
  ['Tgid', 'tgid'],
  ['Pid', 'pid'],
  ['PPid', 'ppid'],
  ['TracerPid', 'tracerPid'],
  ['FDSize', 'fdSize'],
  ['Threads', 'threads'],
  ['voluntary_ctxt_switches', 'voluntaryCtxtSwitches'],
  ['nonvoluntary_ctxt_switches', 'nonvoluntaryCtxtSwitches'],
]);

/**
 * Scans line by line with indexOf and charCodeAt (no split, no regex on the common lines): a snapshot
 * parses ~1,000 of these, and the split/regex version cost ~150 ms of the ~1 s it took.
 */
export function parsePidStatus(text: string): PidStatus {
  const s: Partial<PidStatus> = {};
  let pos = 0;
  let lineNo = 0;
  const n = text.length;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    lineNo++;
    if (nl === pos) {
      pos = nl + 1;
      continue;
    }
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > nl)
      throw new ParseError('no "key:" in status line', { line: lineNo, token: text.slice(pos, nl) });
    const key = text.slice(pos, colon);
    // values are separated by a tab; Name keeps its spaces, so only the first tab is the separator
    let v = colon + 1;
    if (text.charCodeAt(v) === 9) v++;
    else while (v < nl && isBlank(text.charCodeAt(v))) v++;
    const kb = KB.get(key);
    if (kb !== undefined) {
      s[kb] = kbBytes(text, v, nl, key, lineNo);
    } else {
      const int = INT.get(key);
      if (int !== undefined) s[int] = intAt(text, v, nl, key, lineNo);
      else if (key === 'Uid' || key === 'Gid') {
        const ids = intsAt(text, v, nl, key, lineNo);
        if (ids.length !== 4) throw new ParseError(`bad ${key}`, { line: lineNo, token: text.slice(v, nl) });
        const [real, effective, saved, filesystem] = ids as [number, number, number, number];
        s[key === 'Uid' ? 'uid' : 'gid'] = { real, effective, saved, filesystem };
      } else if (key === 'Name') s.name = unescapeName(text.slice(v, nl));
      else if (key === 'State') {
        const value = text.slice(v, nl);
        const m = /^([A-Za-z])(?: \((.*)\))?$/.exec(value.trim());
        if (!m) throw new ParseError('bad State', { line: lineNo, token: value });
        s.state = m[1];
        s.stateName = m[2];
      } else if (key === 'NSpid') s.nsPid = intsAt(text, v, nl, key, lineNo);
      else if (key === 'Kthread') s.kthread = intAt(text, v, nl, key, lineNo) !== 0;
    }
    pos = nl + 1;
  }
  if (s.name === undefined) throw new ParseError('no Name line in status', { token: text.slice(0, 60) });
  for (const k of ['state', 'tgid', 'pid', 'ppid'] as const) {
    if (s[k] === undefined) throw new ParseError(`no ${k} in status`, { token: text.slice(0, 60) });
  }
  return {
    name: s.name,
    state: s.state as string,
    stateName: s.stateName,
    tgid: s.tgid as number,
    pid: s.pid as number,
    ppid: s.ppid as number,
    tracerPid: s.tracerPid,
    uid: s.uid,
    gid: s.gid,
    fdSize: s.fdSize,
    nsPid: s.nsPid,
    kthread: s.kthread,
    threads: s.threads,
    vmPeakBytes: s.vmPeakBytes,
    vmSizeBytes: s.vmSizeBytes,
    vmLckBytes: s.vmLckBytes,
    vmPinBytes: s.vmPinBytes,
    vmHwmBytes: s.vmHwmBytes,
    vmRssBytes: s.vmRssBytes,
    rssAnonBytes: s.rssAnonBytes,
    rssFileBytes: s.rssFileBytes,
    rssShmemBytes: s.rssShmemBytes,
    vmDataBytes: s.vmDataBytes,
    vmStkBytes: s.vmStkBytes,
    vmExeBytes: s.vmExeBytes,
    vmLibBytes: s.vmLibBytes,
    vmPteBytes: s.vmPteBytes,
    vmSwapBytes: s.vmSwapBytes,
    hugetlbPagesBytes: s.hugetlbPagesBytes,
    voluntaryCtxtSwitches: s.voluntaryCtxtSwitches,
    nonvoluntaryCtxtSwitches: s.nonvoluntaryCtxtSwitches,
  };
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** `   8572 kB` between from and to. */
function kbBytes(t: string, from: number, to: number, key: string, line: number): number {
  let i = from;
  while (i < to && isBlank(t.charCodeAt(i))) i++;
  const start = i;
  let v = 0;
  for (; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (i === start || to - i !== 3 || !t.startsWith(' kB', i))
    throw new ParseError(`bad ${key}`, { line, token: t.slice(from, to) });
  return v * 1024;
}

/** One decimal integer (a sign allowed) filling from..to, blanks around it allowed. */
function intAt(t: string, from: number, to: number, key: string, line: number): number {
  let a = from;
  let b = to;
  while (a < b && isBlank(t.charCodeAt(a))) a++;
  while (b > a && isBlank(t.charCodeAt(b - 1))) b--;
  const v = intToken(t, a, b);
  if (v === undefined) throw new ParseError(`bad ${key}`, { line, token: t.slice(a, b) || '<missing>' });
  return v;
}

/** Blank-separated integers (Uid, Gid, NSpid). */
function intsAt(t: string, from: number, to: number, key: string, line: number): number[] {
  const out: number[] = [];
  let i = from;
  for (;;) {
    while (i < to && isBlank(t.charCodeAt(i))) i++;
    if (i >= to) return out;
    let j = i;
    while (j < to && !isBlank(t.charCodeAt(j))) j++;
    const v = intToken(t, i, j);
    if (v === undefined) throw new ParseError(`bad ${key}`, { line, token: t.slice(i, j) });
    out.push(v);
    i = j;
  }
}

function intToken(t: string, a: number, b: number): number | undefined {
  let i = a;
  const neg = t.charCodeAt(i) === 45;
  if (neg) i++;
  if (i >= b) return undefined;
  let v = 0;
  for (; i < b; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  return neg ? -v : v;
}

/** The kernel escapes `\` and newline in Name (seq_escape_str with ESCAPE_SPACE|ESCAPE_SPECIAL, "\n\\"). */
function unescapeName(v: string): string {
  if (!v.includes('\\')) return v;
  return v.replace(/\\(\\|n|t|r|f|v|[0-7]{3})/g, (_, e: string) => {
    switch (e) {
      case '\\':
        return '\\';
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      default:
        return String.fromCharCode(parseInt(e, 8));
    }
  });
}

/** The lines a snapshot keeps of every process: the effective uid and the memory counters. */
export type PidStatusMemory = Pick<
  PidStatus,
  'uid' | 'vmRssBytes' | 'rssAnonBytes' | 'rssFileBytes' | 'rssShmemBytes' | 'vmSwapBytes'
>;

/**
 * Only the lines in PidStatusMemory, each found with one indexOf and parsed by the same line parsers
 * as parsePidStatus: a snapshot reads ~1,000 status files, and walking all ~57 lines of each was
 * ~100 ms of its parsing. A line that is absent is undefined (kernel threads have no Vm lines).
 */
export function parsePidStatusMemory(text: string): PidStatusMemory {
  // The line number is counted only for an error message: parse with 0, re-throw with the real one.
  const at = <T>(key: string, parse: (from: number, to: number) => T): T | undefined => {
    const start = lineOf(text, key);
    if (start < 0) return undefined;
    const from = valueStart(text, start + key.length + 1);
    const to = lineEnd(text, start);
    try {
      return parse(from, to);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      throw new ParseError(`bad ${key}`, { line: lineNo(text, start), token: text.slice(from, to) });
    }
  };
  const kb = (key: string): number | undefined => at(key, (from, to) => kbBytes(text, from, to, key, 0));
  return {
    uid: at('Uid', (from, to) => {
      const ids = intsAt(text, from, to, 'Uid', 0);
      if (ids.length !== 4) throw new ParseError('bad Uid', { line: 0, token: '' });
      const [real, effective, saved, filesystem] = ids as [number, number, number, number];
      return { real, effective, saved, filesystem };
    }),
    vmRssBytes: kb('VmRSS'),
    rssAnonBytes: kb('RssAnon'),
    rssFileBytes: kb('RssFile'),
    rssShmemBytes: kb('RssShmem'),
    vmSwapBytes: kb('VmSwap'),
  };
}

/** Where the line `key:` starts, or -1. */
function lineOf(text: string, key: string): number {
  if (text.startsWith(`${key}:`)) return 0;
  const at = text.indexOf(`\n${key}:`);
  return at < 0 ? -1 : at + 1;
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** Past the colon: the tab that separates, or blanks. */
function valueStart(text: string, afterColon: number): number {
  let v = afterColon;
  if (text.charCodeAt(v) === 9) return v + 1;
  while (isBlank(text.charCodeAt(v))) v++;
  return v;
}

/** Only for error messages. */
function lineNo(text: string, at: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export function readPidStatusMemory(procRoot: string, pid: number): Read<PidStatusMemory> {
  return readParsed(`${procRoot}/${pid}/status`, true, parsePidStatusMemory);
}

export function readPidStatus(procRoot: string, pid: number): Read<PidStatus> {
  return readParsed(`${procRoot}/${pid}/status`, true, parsePidStatus);
}
