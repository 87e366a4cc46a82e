/**
 * The totals that procps-ng `pmap` prints, computed from parsed maps/smaps — to the kilobyte.
 *
 *   pmap -d PID   … mapped: 12892K    writeable/private: 2612K    shared: 6156K
 *   pmap -x PID   … total kB           12892    8572    7196          (Kbytes, RSS, Dirty)
 *
 * procps-ng src/pmap.c, one_proc() (same logic in 3.3.x and 4.0.x; checked against pmap 4.0.2 here):
 *
 *   diff = end - start;
 *   if (perms[3] == 's') total_shared += diff;
 *   if (perms[3] == 'p') {
 *       perms[3] = '-';
 *       if (perms[1] == 'w') total_private_writeable += diff;
 *       else                 total_private_readonly += diff;
 *   }
 *   …
 *   -d: mapped = (total_shared + total_private_writeable + total_private_readonly) >> 10,
 *       writeable/private = total_private_writeable >> 10, shared = total_shared >> 10
 *   -x: total kB = the same `mapped`; RSS = Σ "Rss" of smaps; Dirty = Σ ("Shared_Dirty" + "Private_Dirty")
 *
 * Consequences worth knowing: "mapped" counts every mapping including [vsyscall] (so it can exceed VmSize
 * by 4 kB) and PROT_NONE guard regions; "writeable/private" is address space, not memory in use (a
 * reserved, never touched `rw-p` heap counts in full), and is the figure pmap users quote as "what the
 * process really allocated". "shared" counts `s` mappings whether or not anyone else maps them.
 */
import type { Mapping } from '../procfs/pid-maps.js';
import type { SmapsMapping } from '../procfs/pid-smaps.js';

/** `pmap -d` totals, in bytes (pmap prints them in KiB: divide by 1024, exact as mappings are page-sized). */
export interface PmapTotals {
  mappedBytes: number;
  writeablePrivateBytes: number;
  readonlyPrivateBytes: number;
  sharedBytes: number;
}

/** `pmap -x` totals, in bytes. */
export interface PmapExtendedTotals {
  /** The "Kbytes" column total: the same as `mappedBytes` of `pmap -d`. */
  mappedBytes: number;
  /** Σ Rss; undefined if a mapping had no Rss line. */
  rssBytes: number | undefined;
  /** Σ Shared_Dirty + Private_Dirty; undefined if a mapping lacked either. */
  dirtyBytes: number | undefined;
}

export function pmapTotals(maps: readonly Pick<Mapping, 'start' | 'end' | 'perms'>[]): PmapTotals {
  let shared = 0;
  let writeable = 0;
  let readonly = 0;
  for (const m of maps) {
    const diff = m.end - m.start;
    const share = m.perms[3];
    if (share === 's') shared += diff;
    else if (share === 'p') {
      if (m.perms[1] === 'w') writeable += diff;
      else readonly += diff;
    }
  }
  return {
    mappedBytes: shared + writeable + readonly,
    writeablePrivateBytes: writeable,
    readonlyPrivateBytes: readonly,
    sharedBytes: shared,
  };
}

export function pmapExtendedTotals(smaps: readonly SmapsMapping[]): PmapExtendedTotals {
  let rss: number | undefined = 0;
  let dirty: number | undefined = 0;
  for (const m of smaps) {
    if (rss !== undefined) rss = m.rssBytes === undefined ? undefined : rss + m.rssBytes;
    if (dirty !== undefined) {
      dirty =
        m.sharedDirtyBytes === undefined || m.privateDirtyBytes === undefined
          ? undefined
          : dirty + m.sharedDirtyBytes + m.privateDirtyBytes;
    }
  }
  return { mappedBytes: pmapTotals(smaps).mappedBytes, rssBytes: rss, dirtyBytes: dirty };
}
