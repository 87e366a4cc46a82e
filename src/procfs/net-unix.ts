/**
 * /proc/net/unix — unix(7), proc(5) ("/proc/net/unix").
 *
 *   Num       RefCount Protocol Flags    Type St Inode Path
 *   000000002fe4efbb: 00000002 00000000 00010000 0001 01 13601 /tmp/cap/u dir/with space.sock
 *   000000007fd97858: 00000002 00000000 00010000 0001 01 13604 @procsleuth abstract
 *
 * The path is everything after the inode and one space, spaces included; an abstract name is printed with
 * a leading '@' and its NUL bytes as '@'. Unnamed sockets have no path. A path containing a newline would
 * split a record in two; the kernel does not escape it, and we reject the broken half rather than guess.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export type UnixType = 'STREAM' | 'DGRAM' | 'SEQPACKET';
export type UnixState = 'FREE' | 'UNCONNECTED' | 'CONNECTING' | 'CONNECTED' | 'DISCONNECTING';

export interface UnixSocket {
  refCount: number;
  /** __SO_ACCEPTCON and friends. */
  flags: number;
  /** Undefined for a type code this table does not know. */
  type: UnixType | undefined;
  typeCode: number;
  state: UnixState | undefined;
  stateCode: number;
  /** Flags has __SO_ACCEPTCON (0x10000): listen() was called. */
  listening: boolean;
  inode: number;
  /** Filesystem path or '@abstract' name; undefined for an unnamed socket. */
  path: string | undefined;
  abstract: boolean;
}

const TYPES: Record<number, UnixType> = { 1: 'STREAM', 2: 'DGRAM', 5: 'SEQPACKET' };
const STATES: (UnixState | undefined)[] = ['FREE', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];
export const SO_ACCEPTCON = 0x10000;

const LINE =
  /^[0-9a-fA-F]+: ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{4}) ([0-9A-Fa-f]{2}) +(\d+)(?: (.*))?$/;

export function parseNetUnix(text: string): UnixSocket[] {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('Num '))
    throw new ParseError('expected the "Num RefCount" header', { line: 1, token: lines[0] ?? '<empty>' });
  const out: UnixSocket[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw === '') continue;
    const m = LINE.exec(raw);
    if (!m) throw new ParseError('bad unix socket line', { line: i + 1, token: raw });
    const flags = parseInt(m[3] ?? '', 16);
    const typeCode = parseInt(m[4] ?? '', 16);
    const stateCode = parseInt(m[5] ?? '', 16);
    const inode = Number(m[6]);
    if (!Number.isSafeInteger(inode))
      throw new ParseError('inode too large', { line: i + 1, token: m[6] ?? raw });
    const path = m[7] === undefined || m[7] === '' ? undefined : m[7];
    out.push({
      refCount: parseInt(m[1] ?? '', 16),
      flags,
      type: TYPES[typeCode],
      typeCode,
      state: STATES[stateCode],
      stateCode,
      listening: (flags & SO_ACCEPTCON) !== 0,
      inode,
      path,
      abstract: path !== undefined && path.startsWith('@'),
    });
  }
  return out;
}

export function readNetUnix(procRoot: string): UnixSocket[] {
  const path = `${procRoot}/net/unix`;
  return parseWithPath(path, readRequired(path), parseNetUnix);
}
