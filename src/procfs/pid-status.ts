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

export function parsePidStatus(text: string): PidStatus {
  const s: Partial<PidStatus> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const lineNo = i + 1;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('no "key:" in status line', { line: lineNo, token: line });
    const key = line.slice(0, colon);
    // values are separated by a tab; Name keeps its spaces, so only the first tab is the separator
    const raw = line.slice(colon + 1);
    const value = raw.startsWith('\t') ? raw.slice(1) : raw.trimStart();
    const kb = KB.get(key);
    if (kb !== undefined) {
      const m = /^\s*(\d+) kB$/.exec(value);
      if (!m) throw new ParseError(`bad ${key}`, { line: lineNo, token: value });
      s[kb] = Number(m[1]) * 1024;
      continue;
    }
    const int = INT.get(key);
    if (int !== undefined) {
      s[int] = int_(value.trim(), key, lineNo);
      continue;
    }
    switch (key) {
      case 'Name':
        s.name = unescapeName(value);
        break;
      case 'State': {
        const m = /^([A-Za-z])(?: \((.*)\))?$/.exec(value.trim());
        if (!m) throw new ParseError('bad State', { line: lineNo, token: value });
        s.state = m[1];
        s.stateName = m[2];
        break;
      }
      case 'Uid':
      case 'Gid': {
        const ids = value.trim().split(/\s+/);
        if (ids.length !== 4) throw new ParseError(`bad ${key}`, { line: lineNo, token: value });
        const [real, effective, saved, filesystem] = ids.map((t) => int_(t, key, lineNo)) as [
          number,
          number,
          number,
          number,
        ];
        s[key === 'Uid' ? 'uid' : 'gid'] = { real, effective, saved, filesystem };
        break;
      }
      case 'NSpid':
        s.nsPid = value
          .trim()
          .split(/\s+/)
          .map((t) => int_(t, key, lineNo));
        break;
      case 'Kthread':
        s.kthread = int_(value.trim(), key, lineNo) !== 0;
        break;
    }
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

function int_(tok: string, key: string, line: number): number {
  if (!/^-?\d+$/.test(tok)) throw new ParseError(`bad ${key}`, { line, token: tok || '<missing>' });
  return Number(tok);
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

export function readPidStatus(procRoot: string, pid: number): Read<PidStatus> {
  return readParsed(`${procRoot}/${pid}/status`, true, parsePidStatus);
}
