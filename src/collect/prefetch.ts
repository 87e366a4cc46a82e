/**
 * Per-process files read ahead on a worker thread (native/procfast.c readFilesAsync), for the files
 * whose cost is the kernel's rather than ours: smaps_rollup makes the kernel walk every page table of
 * the process, maps formats every mapping. Read there, that kernel time runs on the other core while
 * this thread reads the rest. Each text is still parsed by its one parser in src/procfs/, and I/O errors
 * are classified by util/proc-io like any other read.
 */
import { constants } from 'node:os';
import { classify, isLiveProcfs, type ReadResult } from '../util/proc-io.js';
import { nativeWalker } from './fd-walk.js';

export interface Prefetched {
  /** The read of <procRoot>/<pid>/<name>, or undefined when that file was not prefetched. */
  get(pid: number, name: string): ReadResult | undefined;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** Starts the reads; undefined when there is no addon (the caller then reads the files itself). */
export function prefetchFiles(
  procRoot: string,
  pids: readonly number[],
  names: readonly string[],
): Promise<Prefetched> | undefined {
  const n = nativeWalker();
  if (!n?.readFilesAsync || names.length === 0 || !isLiveProcfs(procRoot)) return undefined;
  return n.readFilesAsync(procRoot, Int32Array.from(pids), [...names]).then((r) => {
    const index = new Map<number, number>();
    pids.forEach((pid, i) => index.set(pid, i));
    const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    return {
      get(pid, name) {
        const i = index.get(pid);
        const k = names.indexOf(name);
        if (i === undefined || k < 0) return undefined;
        const item = i * names.length + k;
        const errno = r.errnos[item] ?? 0;
        const path = `${procRoot}/${pid}/${name}`;
        if (errno !== 0) {
          const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
          return { ok: false, failure: classify(Object.assign(new Error(code), { code }), path, true) };
        }
        return { ok: true, text: data.toString('utf8', r.offsets[item] ?? 0, r.offsets[item + 1] ?? 0) };
      },
    };
  });
}
