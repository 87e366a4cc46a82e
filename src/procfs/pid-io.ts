/**
 * /proc/<pid>/io — proc_pid_io(5), with CONFIG_TASK_IO_ACCOUNTING.
 *
 *   rchar: 3980
 *   read_bytes: 0
 *   cancelled_write_bytes: 4096
 *
 * rchar/wchar count bytes passed to read/write-like syscalls (page cache hits, pipes and sockets
 * included); read_bytes/write_bytes count what the process caused to be fetched from or sent to the
 * block layer. Readable only by the owner (or with CAP_SYS_PTRACE): others get EACCES → unknown.
 * Counters are u64; past 2^53 the number is rounded, far beyond what a process moves in its life.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export interface PidIo {
  rcharBytes: number | undefined;
  wcharBytes: number | undefined;
  /** Read syscalls. */
  syscr: number | undefined;
  /** Write syscalls. */
  syscw: number | undefined;
  readBytes: number | undefined;
  writeBytes: number | undefined;
  cancelledWriteBytes: number | undefined;
}

const FIELDS: ReadonlyMap<string, keyof PidIo> = new Map<string, keyof PidIo>([
  ['rchar', 'rcharBytes'],
  ['wchar', 'wcharBytes'],
  ['syscr', 'syscr'],
  ['syscw', 'syscw'],
  ['read_bytes', 'readBytes'],
  ['write_bytes', 'writeBytes'],
  ['cancelled_write_bytes', 'cancelledWriteBytes'],
]);

export function parsePidIo(text: string): PidIo {
  const r: PidIo = {
    rcharBytes: undefined,
    wcharBytes: undefined,
    syscr: undefined,
    syscw: undefined,
    readBytes: undefined,
    writeBytes: undefined,
    cancelledWriteBytes: undefined,
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('no "key:" in io line', { line: i + 1, token: line });
    const field = FIELDS.get(line.slice(0, colon));
    if (field === undefined) continue;
    const v = line.slice(colon + 1).trim();
    if (!/^\d+$/.test(v))
      throw new ParseError(`bad ${line.slice(0, colon)}`, { line: i + 1, token: v || '<missing>' });
    r[field] = Number(v);
  }
  return r;
}

export function readPidIo(procRoot: string, pid: number): Read<PidIo> {
  return readParsed(`${procRoot}/${pid}/io`, true, parsePidIo);
}
