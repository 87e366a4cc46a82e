/**
 * /proc/<pid>/smaps_rollup — proc_pid_smaps_rollup(5), Linux ≥ 4.14: the smaps counters summed over
 * every mapping, under one pseudo-header spanning the whole address space.
 *
 *   557f88a38000-7fff39cdc000 ---p 00000000 00:00 0                          [rollup]
 *   Rss:                1640 kB
 *   Pss:                 321 kB
 *
 * Reading it makes the kernel walk the page tables of the process (costly for big processes), which is
 * why the collector makes it optional. Pss_Anon/Pss_File/Pss_Shmem appeared in 5.7 and Pss_Dirty in
 * 6.0: absent lines are undefined. A kernel thread has no mm and answers ESRCH, which proc-io reports
 * as "gone": do not read this file for kernel threads.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';
import { kbValue } from './pid-smaps.js';

export interface PidSmapsRollup {
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  pssDirtyBytes: number | undefined;
  pssAnonBytes: number | undefined;
  pssFileBytes: number | undefined;
  pssShmemBytes: number | undefined;
  sharedCleanBytes: number | undefined;
  sharedDirtyBytes: number | undefined;
  privateCleanBytes: number | undefined;
  privateDirtyBytes: number | undefined;
  referencedBytes: number | undefined;
  anonymousBytes: number | undefined;
  swapBytes: number | undefined;
  swapPssBytes: number | undefined;
  lockedBytes: number | undefined;
  /** Unique set size: memory only this process maps, freed if it exited = Private_Clean + Private_Dirty. */
  ussBytes: number | undefined;
}

type CounterField = Exclude<keyof PidSmapsRollup, 'ussBytes'>;

const FIELDS: ReadonlyMap<string, CounterField> = new Map<string, CounterField>([
  ['Rss', 'rssBytes'],
  ['Pss', 'pssBytes'],
  ['Pss_Dirty', 'pssDirtyBytes'],
  ['Pss_Anon', 'pssAnonBytes'],
  ['Pss_File', 'pssFileBytes'],
  ['Pss_Shmem', 'pssShmemBytes'],
  ['Shared_Clean', 'sharedCleanBytes'],
  ['Shared_Dirty', 'sharedDirtyBytes'],
  ['Private_Clean', 'privateCleanBytes'],
  ['Private_Dirty', 'privateDirtyBytes'],
  ['Referenced', 'referencedBytes'],
  ['Anonymous', 'anonymousBytes'],
  ['Swap', 'swapBytes'],
  ['SwapPss', 'swapPssBytes'],
  ['Locked', 'lockedBytes'],
]);

export function parsePidSmapsRollup(text: string): PidSmapsRollup {
  const r: PidSmapsRollup = {
    rssBytes: undefined,
    pssBytes: undefined,
    pssDirtyBytes: undefined,
    pssAnonBytes: undefined,
    pssFileBytes: undefined,
    pssShmemBytes: undefined,
    sharedCleanBytes: undefined,
    sharedDirtyBytes: undefined,
    privateCleanBytes: undefined,
    privateDirtyBytes: undefined,
    referencedBytes: undefined,
    anonymousBytes: undefined,
    swapBytes: undefined,
    swapPssBytes: undefined,
    lockedBytes: undefined,
    ussBytes: undefined,
  };
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    const c = text.charCodeAt(pos);
    if (nl > pos && c >= 65 && c <= 90) {
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon > nl)
        throw new ParseError('no ":" in counter line', { line: lineNo, token: text.slice(pos, nl) });
      const field = FIELDS.get(text.slice(pos, colon));
      if (field !== undefined) r[field] = kbValue(text, colon + 1, nl, lineNo);
    } else if (nl > pos && !(lineNo === 1 && text.slice(pos, nl).endsWith('[rollup]'))) {
      throw new ParseError('unexpected line', { line: lineNo, token: text.slice(pos, nl) });
    }
    pos = nl + 1;
  }
  if (r.privateCleanBytes !== undefined && r.privateDirtyBytes !== undefined) {
    r.ussBytes = r.privateCleanBytes + r.privateDirtyBytes;
  }
  return r;
}

export function readPidSmapsRollup(procRoot: string, pid: number): Read<PidSmapsRollup> {
  return readParsed(`${procRoot}/${pid}/smaps_rollup`, true, parsePidSmapsRollup);
}
