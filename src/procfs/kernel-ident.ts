/**
 * /proc/sys/kernel/hostname and /proc/sys/kernel/osrelease — proc_sys_kernel(5).
 *
 *   vm
 *   6.18.44-fc-v657
 *
 * The hostname is that of the UTS namespace of the process reading it; read from a container, it is the
 * container's name, not the host's.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface KernelIdent {
  hostname: string;
  /** `uname -r`. */
  osRelease: string;
}

/** One line of text; an empty value is an error (the kernel always has both). */
export function parseOneLine(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const v = (lines[0] ?? '').trim();
  if (v === '' || lines.length > 1)
    throw new ParseError('expected one non-empty line', { line: 1, token: text });
  return v;
}

export function readKernelIdent(procRoot: string): KernelIdent {
  const read = (name: string): string => {
    const path = `${procRoot}/sys/kernel/${name}`;
    return parseWithPath(path, readRequired(path), parseOneLine);
  };
  return { hostname: read('hostname'), osRelease: read('osrelease') };
}
