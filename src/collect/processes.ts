/**
 * Every process, read from its /proc/<pid> files. A process that exits while we read it is skipped and
 * counted; a file we may not read leaves its fields undefined and is listed in `unreadable`; a malformed
 * file skips that one process with a note (never the whole snapshot).
 */
import { existsSync } from 'node:fs';
import { ParseError } from '../util/errors.js';
import type { Read, ReadFailure, ReadResult } from '../util/proc-io.js';
import { parseWithPath, readLink } from '../util/proc-io.js';
import { userName } from '../util/users.js';
import { isKernelThread, readPidStat, type PidStat } from '../procfs/pid-stat.js';
import { readPidStatusMemory } from '../procfs/pid-status.js';
import { readPidCmdline } from '../procfs/pid-cmdline.js';
import { parsePidSmapsRollup, readPidSmapsRollup, type PidSmapsRollup } from '../procfs/pid-smaps-rollup.js';
import { mappingKind, parsePidMaps, readPidMaps, type Mapping } from '../procfs/pid-maps.js';
import { readPidOpenFilesLimit } from '../procfs/pid-limits.js';
import { pmapTotals } from './pmap.js';
import type { ProcessInfo, ReadProblems } from './types.js';

export interface ProcessReadOptions {
  /** smaps_rollup: PSS/USS (costly on big hosts: the kernel walks page tables). */
  pss: boolean;
  /** maps: the `pmap -d` totals. */
  maps: boolean;
  /** Only of processes with at least this much virtual memory (CollectOptions.mapsMinVszBytes). */
  mapsMinVszBytes?: number | undefined;
  /** limits: RLIMIT_NOFILE (default true; snapshot.ts reads it later when CollectOptions.limitsMinFds). */
  limits?: boolean;
  pageSizeBytes: number;
  /**
   * Leave smaps_rollup and maps to fillMemory (their texts were prefetched on a worker thread); the
   * memory fields they give stay undefined until then.
   */
  deferMemory?: boolean;
}

/** Outcome of a per-file read: its value, or why not. Gone means the whole process is gone. */
class Gone extends Error {}

export function readProcess(
  procRoot: string,
  pid: number,
  o: ProcessReadOptions,
  problems: ReadProblems,
): { info: ProcessInfo; stat: PidStat } | undefined {
  const unreadable: string[] = [];
  const take = <T>(source: string, r: Read<T>): T | undefined => {
    if (r.ok) return r.value;
    return failed(source, r.failure);
  };
  const failed = (source: string, f: ReadFailure): undefined => {
    // A file missing while stat is still there is not a process that exited: a zombie's
    // smaps_rollup answers ESRCH, and a captured tree may lack what was denied at capture.
    if (f.kind === 'gone') {
      if (!existsSync(`${procRoot}/${pid}/stat`)) throw new Gone();
      unreadable.push(source);
      return undefined;
    }
    if (f.kind === 'denied') unreadable.push(source);
    return undefined;
  };
  try {
    const st = readPidStat(procRoot, pid);
    if (!st.ok) {
      if (st.failure.kind === 'denied') problems.denied.push({ pid, comm: undefined, sources: ['stat'] });
      else problems.vanished++;
      return undefined;
    }
    const stat = st.value;
    const kthread = isKernelThread(stat);
    const status = take('status', readPidStatusMemory(procRoot, pid));
    const argv = kthread ? [] : (take('cmdline', readPidCmdline(procRoot, pid)) ?? []);
    let exe: string | undefined;
    if (!kthread) {
      const l = readLink(`${procRoot}/${pid}/exe`, true);
      // A zombie has no exe (ENOENT) while the process is still there: unknown, not gone.
      if (l.ok) exe = l.target;
      else if (l.failure.kind === 'denied') unreadable.push('exe');
    }
    const now = !kthread && o.deferMemory !== true;
    const rollup = o.pss && now ? take('smaps_rollup', readPidSmapsRollup(procRoot, pid)) : undefined;
    const maps = wantsMaps(o, stat.vszBytes) && now ? take('maps', readPidMaps(procRoot, pid)) : undefined;
    const totals = maps ? pmapTotals(maps) : undefined;
    const openFiles =
      kthread || o.limits === false ? undefined : take('limits', readPidOpenFilesLimit(procRoot, pid));
    const uid = status?.uid?.effective;
    const info: ProcessInfo = {
      pid,
      ppid: stat.ppid,
      startTimeTicks: stat.startTimeTicks,
      comm: stat.comm,
      exe,
      cmdline: argv.join(' '),
      argv,
      uid,
      user: userName(uid),
      state: stat.state,
      threads: stat.threads,
      kernelThread: kthread,
      cpuPercent: undefined,
      cpuSystemPercent: undefined,
      utimeTicks: stat.utimeTicks,
      stimeTicks: stat.stimeTicks,
      rssBytes: status?.vmRssBytes ?? (kthread ? undefined : stat.rssPages * o.pageSizeBytes),
      pssBytes: rollup?.pssBytes,
      ussBytes: rollup?.ussBytes,
      anonBytes: status?.rssAnonBytes ?? rollup?.anonymousBytes,
      swapBytes: status?.vmSwapBytes ?? rollup?.swapBytes,
      sharedBytes:
        status?.rssFileBytes !== undefined && status.rssShmemBytes !== undefined
          ? status.rssFileBytes + status.rssShmemBytes
          : undefined,
      vszBytes: stat.vszBytes,
      mappedBytes: totals?.mappedBytes,
      writeablePrivateBytes: totals?.writeablePrivateBytes,
      shmMappedBytes: maps ? shmBytes(maps) : undefined,
      shmemRssBytes: status?.rssShmemBytes,
      fdCount: undefined,
      fdLimit: openFiles?.soft,
      sockets: undefined,
      unreadable,
    };
    if (unreadable.length > 0) problems.denied.push({ pid, comm: stat.comm, sources: unreadable });
    return { info, stat };
  } catch (err) {
    if (err instanceof Gone) {
      problems.vanished++;
      return undefined;
    }
    if (err instanceof ParseError) {
      problems.skipped.push({ pid, reason: err.message });
      return undefined;
    }
    throw err;
  }
}

/**
 * Completes a process read with deferMemory from the prefetched smaps_rollup and maps texts (absent
 * ones are read now). Anything but 'ok' means the caller drops the process: 'gone' (count it as
 * vanished) or 'skipped' (a malformed file, noted in problems.skipped), as readProcess would have.
 */
export function fillMemory(
  procRoot: string,
  p: ProcessInfo,
  o: ProcessReadOptions,
  texts: { smapsRollup: ReadResult | undefined; maps: ReadResult | undefined },
  problems: ReadProblems,
): 'ok' | 'gone' | 'skipped' {
  if (p.kernelThread) return 'ok';
  const before = p.unreadable.length;
  const parsed = <T>(source: string, r: ReadResult, parse: (t: string) => T): T | undefined => {
    if (r.ok) return parseWithPath(`${procRoot}/${p.pid}/${source}`, r.text, parse);
    if (r.failure.kind === 'gone' && !existsSync(`${procRoot}/${p.pid}/stat`)) throw new Gone();
    if (r.failure.kind !== 'absent') p.unreadable.push(source);
    return undefined;
  };
  try {
    let rollup: PidSmapsRollup | undefined;
    if (o.pss) {
      const r = texts.smapsRollup;
      rollup = r
        ? parsed('smaps_rollup', r, parsePidSmapsRollup)
        : readNow(p, 'smaps_rollup', readPidSmapsRollup(procRoot, p.pid), procRoot);
    }
    let maps: Mapping[] | undefined;
    if (wantsMaps(o, p.vszBytes)) {
      const r = texts.maps;
      maps = r ? parsed('maps', r, parsePidMaps) : readNow(p, 'maps', readPidMaps(procRoot, p.pid), procRoot);
    }
    p.pssBytes = rollup?.pssBytes;
    p.ussBytes = rollup?.ussBytes;
    p.anonBytes ??= rollup?.anonymousBytes;
    p.swapBytes ??= rollup?.swapBytes;
    if (maps) {
      const totals = pmapTotals(maps);
      p.mappedBytes = totals.mappedBytes;
      p.writeablePrivateBytes = totals.writeablePrivateBytes;
      p.shmMappedBytes = shmBytes(maps);
    }
  } catch (err) {
    if (err instanceof Gone) return 'gone';
    if (err instanceof ParseError) {
      problems.skipped.push({ pid: p.pid, reason: err.message });
      return 'skipped';
    }
    throw err;
  }
  const added = p.unreadable.slice(before);
  if (added.length > 0) {
    const d = problems.denied.find((x) => x.pid === p.pid);
    if (d) d.sources.push(...added);
    else problems.denied.push({ pid: p.pid, comm: p.comm, sources: added });
  }
  return 'ok';
}

/** RLIMIT_NOFILE read after the fd walk (CollectOptions.limitsMinFds); a process gone by then keeps none. */
export function fillFdLimit(procRoot: string, p: ProcessInfo, problems: ReadProblems): void {
  let r: ReturnType<typeof readPidOpenFilesLimit>;
  try {
    r = readPidOpenFilesLimit(procRoot, p.pid);
  } catch (err) {
    // a malformed limits file costs this process its fd limit, not its place in the snapshot
    if (!(err instanceof ParseError)) throw err;
    problems.skipped.push({ pid: p.pid, reason: `${err.message} (fd limit left unknown)` });
    return;
  }
  if (r.ok) p.fdLimit = r.value?.soft;
  else if (r.failure.kind === 'denied') {
    p.unreadable.push('limits');
    const d = problems.denied.find((x) => x.pid === p.pid);
    if (d) d.sources.push('limits');
    else problems.denied.push({ pid: p.pid, comm: p.comm, sources: ['limits'] });
  }
}

function wantsMaps(o: ProcessReadOptions, vszBytes: number): boolean {
  return o.maps && (o.mapsMinVszBytes === undefined || vszBytes >= o.mapsMinVszBytes);
}

function readNow<T>(p: ProcessInfo, source: string, r: Read<T>, procRoot: string): T | undefined {
  if (r.ok) return r.value;
  if (r.failure.kind === 'gone' && !existsSync(`${procRoot}/${p.pid}/stat`)) throw new Gone();
  if (r.failure.kind !== 'absent') p.unreadable.push(source);
  return undefined;
}

const SHM_KINDS = new Set(['shared-anon', 'sysv-shm', 'memfd']);

function shmBytes(maps: readonly Mapping[]): number {
  let n = 0;
  for (const m of maps) if (SHM_KINDS.has(mappingKind(m))) n += m.end - m.start;
  return n;
}
