/**
 * /proc/<pid>/limits — proc_pid_limits(5): getrlimit(2) of every resource, soft and hard.
 *
 *   Limit                     Soft Limit           Hard Limit           Units
 *   Max open files            20000                20000                files
 *   Max nice priority         0                    0
 *
 * Columns are padded to fixed widths today, but names have single spaces and values never do, so the
 * row is read as words: the name is every word before the first number or `unlimited`. Units are
 * blank for the two priority rows.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export type Limit = number | 'unlimited';

export interface LimitEntry {
  soft: Limit;
  hard: Limit;
  /** As printed (`bytes`, `files`, `seconds`, `us`…); undefined when the kernel prints none. */
  unit: string | undefined;
}

/** The kernel's row names (fs/proc/base.c lnames[]) → our keys, named after RLIMIT_*. */
export const LIMIT_NAMES = {
  'Max cpu time': 'cpuTime',
  'Max file size': 'fileSize',
  'Max data size': 'dataSize',
  'Max stack size': 'stack',
  'Max core file size': 'core',
  'Max resident set': 'residentSet',
  'Max processes': 'processes',
  'Max open files': 'openFiles',
  'Max locked memory': 'lockedMemory',
  'Max address space': 'addressSpace',
  'Max file locks': 'fileLocks',
  'Max pending signals': 'pendingSignals',
  'Max msgqueue size': 'msgqueueSize',
  'Max nice priority': 'nicePriority',
  'Max realtime priority': 'realtimePriority',
  'Max realtime timeout': 'realtimeTimeout',
} as const;

export type LimitName = (typeof LIMIT_NAMES)[keyof typeof LIMIT_NAMES];

export type PidLimits = Partial<Record<LimitName, LimitEntry>> & {
  /** Rows this table does not know (a newer kernel), keyed by the camelCased name without "Max". */
  other?: Record<string, LimitEntry>;
};

const NAMES: ReadonlyMap<string, LimitName> = new Map(Object.entries(LIMIT_NAMES));

export function parsePidLimits(text: string): PidLimits {
  const out: PidLimits = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || (i === 0 && line.trimStart().startsWith('Limit'))) continue;
    const [name, entry] = parseRow(line, i + 1);
    const key = NAMES.get(name);
    if (key !== undefined) out[key] = entry;
    else (out.other ??= {})[camel(name)] = entry;
  }
  return out;
}

function parseRow(row: string, lineNo: number): [string, LimitEntry] {
  const line = row.trim();
  const words = line.split(/\s+/);
  const v = words.findIndex(isValue);
  if (v <= 0) throw new ParseError('no limit value', { line: lineNo, token: line });
  const hardTok = words[v + 1];
  if (hardTok === undefined || !isValue(hardTok))
    throw new ParseError('bad hard limit', { line: lineNo, token: hardTok ?? line });
  if (words.length > v + 3) throw new ParseError('extra words in limit row', { line: lineNo, token: line });
  return [
    words.slice(0, v).join(' '),
    { soft: value(words[v] as string), hard: value(hardTok), unit: words[v + 2] },
  ];
}

const OPEN_FILES_ROW = '\nMax open files ';

/**
 * Only RLIMIT_NOFILE, the row a snapshot keeps for every process: found with one indexOf and parsed
 * by the same row parser, instead of all sixteen rows (a tenth of a snapshot's parsing time).
 * Undefined when the file has no such row.
 */
export function parsePidOpenFilesLimit(text: string): LimitEntry | undefined {
  const at = text.indexOf(OPEN_FILES_ROW);
  if (at < 0) return undefined;
  let end = text.indexOf('\n', at + 1);
  if (end < 0) end = text.length;
  const lineNo = text.slice(0, at + 1).split('\n').length;
  return parseRow(text.slice(at + 1, end), lineNo)[1];
}

export function readPidOpenFilesLimit(procRoot: string, pid: number): Read<LimitEntry | undefined> {
  return readParsed(`${procRoot}/${pid}/limits`, true, parsePidOpenFilesLimit);
}

function isValue(w: string): boolean {
  return w === 'unlimited' || /^\d+$/.test(w);
}

function value(w: string): Limit {
  // RLIM_INFINITY is printed as "unlimited"; any other number (up to 2^64−2) is a real limit
  return w === 'unlimited' ? 'unlimited' : Number(w);
}

function camel(name: string): string {
  const words = name
    .replace(/^Max\s+/, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

export function readPidLimits(procRoot: string, pid: number): Read<PidLimits> {
  return readParsed(`${procRoot}/${pid}/limits`, true, parsePidLimits);
}
