/**
 * /proc/<pid>/maps — proc_pid_maps(5).
 *
 *   558bac66a000-558bac66b000 r-xp 00001000 fe:00 2146578                    /tmp/psz/zoo
 *   7f2551687000-7f2551787000 rw-s 00000000 00:01 8                          /SYSV00000000 (deleted)
 *   7fff0628c000-7fff062ad000 rw-p 00000000 00:00 0                          [stack]
 *
 * The kernel pads the pathname to a column, but a path may itself contain spaces, so the pathname is
 * "everything after the inode, leading blanks removed", never a split token. A newline inside a path is
 * printed as `\012` by the kernel and kept as such here.
 *
 * Addresses are JS numbers: they exceed 2^53 (`[vsyscall]` is at 0xffffffffff600000) but are page
 * aligned, and every multiple of 4096 below 2^64 is exactly representable in a double, so start, end and
 * end − start are exact.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export interface Mapping {
  start: number;
  end: number;
  /** `rwxp` / `r--s`: the fourth letter is `p` (private, copy-on-write) or `s` (shared). */
  perms: string;
  offset: number;
  /** `major:minor` in hex as printed (`fe:00`); `00:xx` for anonymous, shmem and special mappings. */
  dev: string;
  inode: number;
  /** The pathname without a ` (deleted)` suffix; '' for an anonymous mapping (which has no name). */
  path: string;
  /** The backing file was unlinked (also true for shmem: `/dev/zero (deleted)`, `/SYSV… (deleted)`). */
  deleted: boolean;
}

const DELETED = ' (deleted)';

/** Parse one maps (or smaps header) line; `lineNo` is only for the error. */
export function parseMapsLine(line: string, lineNo: number): Mapping {
  // Five space-separated fixed fields, then the padded pathname.
  const dash = line.indexOf('-');
  const s1 = dash < 0 ? -1 : line.indexOf(' ', dash + 1);
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  const s4 = s3 < 0 ? -1 : line.indexOf(' ', s3 + 1);
  if (dash <= 0 || s4 < 0) throw new ParseError('truncated mapping line', { line: lineNo, token: line });
  let s5 = line.indexOf(' ', s4 + 1);
  if (s5 < 0) s5 = line.length;
  const start = hex(line, 0, dash, lineNo);
  const end = hex(line, dash + 1, s1, lineNo);
  if (end < start)
    throw new ParseError('mapping ends before it starts', { line: lineNo, token: line.slice(0, s1) });
  const perms = line.slice(s1 + 1, s2);
  if (!PERMS.test(perms)) throw new ParseError('bad perms', { line: lineNo, token: perms });
  const offset = hex(line, s2 + 1, s3, lineNo);
  const dev = line.slice(s3 + 1, s4);
  if (!DEV.test(dev)) throw new ParseError('bad dev', { line: lineNo, token: dev });
  const inodeTok = line.slice(s4 + 1, s5);
  if (!INODE.test(inodeTok)) throw new ParseError('bad inode', { line: lineNo, token: inodeTok });
  let i = s5;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  let path = i === line.length ? '' : line.slice(i);
  let deleted = false;
  if (path.endsWith(DELETED)) {
    deleted = true;
    path = path.slice(0, -DELETED.length);
  }
  return { start, end, perms, offset, dev, inode: Number(inodeTok), path, deleted };
}

const PERMS = /^[r-][w-][x-][ps]$/;
const DEV = /^[0-9a-f]+:[0-9a-f]+$/;
// Inodes are u64; above 2^53 the number is rounded (only some network filesystems hand out such inodes).
const INODE = /^\d{1,20}$/;

function hex(line: string, from: number, to: number, lineNo: number): number {
  if (to <= from || to - from > 16)
    throw new ParseError('bad hex number', { line: lineNo, token: line.slice(from, to) });
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i);
    // lower-case only: the kernel prints %lx, and anything else means the line is not a mapping
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
      throw new ParseError('bad hex number', { line: lineNo, token: line.slice(from, to) });
    }
  }
  return parseInt(line.slice(from, to), 16);
}

export function parsePidMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    if (nl > pos) out.push(parseMapsLine(text.slice(pos, nl), lineNo));
    pos = nl + 1;
  }
  return out;
}

export function readPidMaps(procRoot: string, pid: number): Read<Mapping[]> {
  return readParsed(`${procRoot}/${pid}/maps`, true, parsePidMaps);
}

export type MappingKind =
  | 'heap'
  | 'stack'
  | 'anon'
  | 'file'
  | 'shared-anon'
  | 'sysv-shm'
  | 'vdso'
  | 'vvar'
  | 'vsyscall'
  | 'memfd'
  | 'other';

/**
 * What backs a mapping, from its name and perms.
 *
 * Shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS, or a shared map of /dev/zero) is shmem under
 * the hood and shows as `/dev/zero (deleted)` on device 00:xx; a SysV segment shows as `/SYSV<key in hex>
 * (deleted)`; memfd_create files as `/memfd:<name> (deleted)`. All three are "file" by their name but
 * memory by nature, which is what a leak hunt wants to know.
 */
export function mappingKind(m: Pick<Mapping, 'path' | 'perms' | 'dev' | 'inode'>): MappingKind {
  const p = m.path;
  if (p === '') return 'anon';
  const c = p.charCodeAt(0);
  if (c === 91 /* [ */) {
    if (p === '[heap]') return 'heap';
    // `[stack:<tid>]` on kernels before 4.5 named each thread's stack
    if (p === '[stack]' || p.startsWith('[stack:')) return 'stack';
    if (p === '[vdso]') return 'vdso';
    // `[vvar_vclock]` since 6.13 splits the clock pages out of [vvar]
    if (p === '[vvar]' || p.startsWith('[vvar_')) return 'vvar';
    if (p === '[vsyscall]') return 'vsyscall';
    // PR_SET_VMA_ANON_NAME (CONFIG_ANON_VMA_NAME): private anon `[anon:x]`, shared anon `[anon_shmem:x]`
    if (p.startsWith('[anon_shmem:')) return 'shared-anon';
    if (p.startsWith('[anon:')) return 'anon';
    return 'other';
  }
  if (c === 47 /* / */) {
    const special = m.dev.startsWith('00:') || m.dev.startsWith('0:');
    if (p.startsWith('/memfd:')) return 'memfd';
    if (special && /^\/SYSV[0-9a-fA-F]{8}$/.test(p)) return 'sysv-shm';
    if (special && p === '/dev/zero' && m.perms[3] === 's') return 'shared-anon';
    return 'file';
  }
  return 'other';
}
