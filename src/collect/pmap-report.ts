/** `pmap -x` and `pmap -d` for one process: every mapping with its kind and RSS, and their totals. */
import { ProcsleuthError } from '../util/errors.js';
import type { Roots } from '../util/roots.js';
import { mappingKind, readPidMaps, type Mapping, type MappingKind } from '../procfs/pid-maps.js';
import { readPidSmaps, type SmapsMapping } from '../procfs/pid-smaps.js';
import { readPidComm } from '../procfs/pid-comm.js';
import { readPidStat } from '../procfs/pid-stat.js';
import { pmapExtendedTotals, pmapTotals } from './pmap.js';

export interface PmapMapping {
  address: string;
  startAddress: number;
  sizeBytes: number;
  perms: string;
  kind: MappingKind;
  path: string;
  deleted: boolean;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  dirtyBytes: number | undefined;
  swapBytes: number | undefined;
}

export interface PmapReport {
  schema: 'procsleuth.pmap/1';
  takenAt: string;
  pid: number;
  comm: string;
  mappings: PmapMapping[];
  totals: {
    vszBytes: number | undefined;
    rssBytes: number | undefined;
    dirtyBytes: number | undefined;
    mappedBytes: number;
    writeablePrivateBytes: number;
    readonlyPrivateBytes: number;
    sharedBytes: number;
  };
  /** Size and RSS per kind: where the memory is (heap, shared-anon such as /dev/zero (deleted), …). */
  byKind: Partial<Record<MappingKind, { count: number; sizeBytes: number; rssBytes: number | undefined }>>;
  notes: string[];
}

export function collectPmap(roots: Roots, pid: number): PmapReport {
  const proc = roots.proc;
  const notes: string[] = [];
  const smaps = readPidSmaps(proc, pid);
  let maps: (Mapping | SmapsMapping)[];
  if (smaps.ok) maps = smaps.value;
  else {
    if (smaps.failure.kind === 'gone')
      throw new ProcsleuthError('NOT_FOUND', `no process ${pid} under ${proc}`);
    const m = readPidMaps(proc, pid);
    if (!m.ok) {
      if (m.failure.kind === 'gone')
        throw new ProcsleuthError('NOT_FOUND', `no process ${pid} under ${proc}`);
      throw new ProcsleuthError(
        'IO',
        `cannot read ${proc}/${pid}/maps: permission denied (run as root or as the process's user)`,
      );
    }
    maps = m.value;
    notes.push('smaps unreadable (permission denied): sizes only, no RSS');
  }
  const stat = readPidStat(proc, pid);
  const comm = readPidComm(proc, pid);
  const d = pmapTotals(maps);
  const x = smaps.ok ? pmapExtendedTotals(smaps.value) : undefined;
  const mappings: PmapMapping[] = maps.map((m) => {
    const s = smaps.ok ? (m as SmapsMapping) : undefined;
    return {
      address: m.start.toString(16).padStart(16, '0'),
      startAddress: m.start,
      sizeBytes: m.end - m.start,
      perms: m.perms,
      kind: mappingKind(m),
      path: m.path,
      deleted: m.deleted,
      rssBytes: s?.rssBytes,
      pssBytes: s?.pssBytes,
      dirtyBytes:
        s && s.sharedDirtyBytes !== undefined && s.privateDirtyBytes !== undefined
          ? s.sharedDirtyBytes + s.privateDirtyBytes
          : undefined,
      swapBytes: s?.swapBytes,
    };
  });
  const byKind: PmapReport['byKind'] = {};
  for (const m of mappings) {
    const k = (byKind[m.kind] ??= { count: 0, sizeBytes: 0, rssBytes: smaps.ok ? 0 : undefined });
    k.count++;
    k.sizeBytes += m.sizeBytes;
    if (k.rssBytes !== undefined) k.rssBytes += m.rssBytes ?? 0;
  }
  return {
    schema: 'procsleuth.pmap/1',
    takenAt: new Date().toISOString(),
    pid,
    comm: comm.ok ? comm.value : '?',
    mappings,
    totals: {
      vszBytes: stat.ok ? stat.value.vszBytes : undefined,
      rssBytes: x?.rssBytes,
      dirtyBytes: x?.dirtyBytes,
      mappedBytes: d.mappedBytes,
      writeablePrivateBytes: d.writeablePrivateBytes,
      readonlyPrivateBytes: d.readonlyPrivateBytes,
      sharedBytes: d.sharedBytes,
    },
    byKind,
    notes,
  };
}
