/**
 * /proc/<pid>/smaps — proc_pid_smaps(5): each mapping of maps(5) followed by its memory counters.
 *
 *   7f2551787000-7f2551b87000 rw-s 00000000 00:01 14                         /dev/zero (deleted)
 *   Size:               4096 kB
 *   Rss:                2048 kB
 *   …
 *   VmFlags: rd wr sh mr mw me ms sd
 *
 * A JIT or an allocator with many arenas has 10,000+ mappings, i.e. 250,000+ lines here, so the parser
 * walks the text once with indexOf and charCodeAt: no split, no regex per counter line, one slice per key.
 * Header lines start with a lower-case hex digit and counter lines with an upper-case letter (pmap relies
 * on the same distinction). Counters this parser does not name are ignored, so new kernel fields pass.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';
import { parseMapsLine, type Mapping } from './pid-maps.js';

/** The counters of one mapping, in bytes; undefined when the kernel did not print that line. */
export interface SmapsCounters {
  sizeBytes: number | undefined;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  sharedCleanBytes: number | undefined;
  sharedDirtyBytes: number | undefined;
  privateCleanBytes: number | undefined;
  privateDirtyBytes: number | undefined;
  referencedBytes: number | undefined;
  anonymousBytes: number | undefined;
  swapBytes: number | undefined;
  swapPssBytes: number | undefined;
  lockedBytes: number | undefined;
}

export interface SmapsMapping extends Mapping, SmapsCounters {
  /** Two-letter VmFlags (`rd wr sh mr mw me ms sd`); undefined on kernels before 3.8. */
  vmFlags: string[] | undefined;
}

/** smaps key → our field; shared with smaps_rollup, whose lines have the same shape. */
export const SMAPS_KEYS = {
  Size: 'sizeBytes',
  Rss: 'rssBytes',
  Pss: 'pssBytes',
  Shared_Clean: 'sharedCleanBytes',
  Shared_Dirty: 'sharedDirtyBytes',
  Private_Clean: 'privateCleanBytes',
  Private_Dirty: 'privateDirtyBytes',
  Referenced: 'referencedBytes',
  Anonymous: 'anonymousBytes',
  Swap: 'swapBytes',
  SwapPss: 'swapPssBytes',
  Locked: 'lockedBytes',
} as const satisfies Record<string, keyof SmapsCounters>;

/** A Map, not the object: a key read from the file must never reach Object.prototype. */
export const SMAPS_FIELDS: ReadonlyMap<string, keyof SmapsCounters> = new Map(Object.entries(SMAPS_KEYS));

function newEntry(m: Mapping): SmapsMapping {
  // every field written out (no spread): one hidden class for all entries, ~10× faster to build
  return {
    start: m.start,
    end: m.end,
    perms: m.perms,
    offset: m.offset,
    dev: m.dev,
    inode: m.inode,
    path: m.path,
    deleted: m.deleted,
    sizeBytes: undefined,
    rssBytes: undefined,
    pssBytes: undefined,
    sharedCleanBytes: undefined,
    sharedDirtyBytes: undefined,
    privateCleanBytes: undefined,
    privateDirtyBytes: undefined,
    referencedBytes: undefined,
    anonymousBytes: undefined,
    swapBytes: undefined,
    swapPssBytes: undefined,
    lockedBytes: undefined,
    vmFlags: undefined,
  };
}

/**
 * The value of a `Key:   123 kB` line in bytes (or the bare number when there is no unit, as for
 * `THPeligible:    0`). `from` is just after the colon. Throws on anything but digits.
 */
export function kbValue(text: string, from: number, to: number, lineNo: number): number {
  let i = from;
  while (i < to && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  const d0 = i;
  let n = 0;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (i === d0)
    throw new ParseError('bad number', { line: lineNo, token: text.slice(from, to).trim() || '<missing>' });
  if (i === to) return n;
  // only " kB" may follow
  if (
    to - i === 3 &&
    text.charCodeAt(i) === 32 &&
    text.charCodeAt(i + 1) === 107 &&
    text.charCodeAt(i + 2) === 66
  ) {
    return n * 1024;
  }
  throw new ParseError('bad number', { line: lineNo, token: text.slice(from, to).trim() });
}

export function parsePidSmaps(text: string): SmapsMapping[] {
  const out: SmapsMapping[] = [];
  let cur: SmapsMapping | undefined;
  let pos = 0;
  let lineNo = 0;
  const len = text.length;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    lineNo++;
    if (nl === pos) {
      pos = nl + 1;
      continue;
    }
    const c = text.charCodeAt(pos);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) {
      cur = newEntry(parseMapsLine(text.slice(pos, nl), lineNo));
      out.push(cur);
    } else if (c >= 65 && c <= 90) {
      if (cur === undefined)
        throw new ParseError('counter before any mapping', { line: lineNo, token: text.slice(pos, nl) });
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon > nl)
        throw new ParseError('no ":" in counter line', { line: lineNo, token: text.slice(pos, nl) });
      const key = text.slice(pos, colon);
      if (key === 'VmFlags') {
        cur.vmFlags = text
          .slice(colon + 1, nl)
          .trim()
          .split(' ')
          .filter(Boolean);
      } else {
        const field = SMAPS_FIELDS.get(key);
        if (field !== undefined) cur[field] = kbValue(text, colon + 1, nl, lineNo);
      }
    } else {
      throw new ParseError('neither a mapping nor a counter', { line: lineNo, token: text.slice(pos, nl) });
    }
    pos = nl + 1;
  }
  return out;
}

export function readPidSmaps(procRoot: string, pid: number): Read<SmapsMapping[]> {
  return readParsed(`${procRoot}/${pid}/smaps`, true, parsePidSmaps);
}
