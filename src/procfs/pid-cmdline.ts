/**
 * /proc/<pid>/cmdline — proc_pid_cmdline(5): argv, each argument ended by a NUL.
 *
 *   /usr/sbin/nginx\0-g\0daemon off;\0
 *
 * Shapes seen in the wild:
 * - a kernel thread (and a zombie) has an empty file → [];
 * - a process that rewrote its argv area (setproctitle: nginx, postgres, sshd, perl's `$0 = …`) leaves
 *   ONE string with spaces (`nginx: worker process`), often padded with NULs or spaces to the old length,
 *   and sometimes without a final NUL (the kernel then reads on into the environment area up to a NUL).
 *   We return that string as a single argv[0], padding trimmed: splitting it on spaces would invent
 *   arguments and break paths with spaces;
 * - trailing NULs are padding, so an argv that really ended in empty strings (`prog ''`) loses them,
 *   exactly as `ps` shows it.
 */
import { readParsed, type Read } from '../util/proc-io.js';

export function parsePidCmdline(text: string): string[] {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return [];
  const argv = text.slice(0, end).split('\0');
  if (argv.length === 1) {
    // a rewritten title: trim the padding the rewriter left behind
    const only = (argv[0] ?? '').trimEnd();
    return only === '' ? [] : [only];
  }
  return argv;
}

/** True when argv looks like a title written over the argv area rather than real arguments. */
export function looksRewritten(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] ?? '').includes(' ');
}

export function readPidCmdline(procRoot: string, pid: number): Read<string[]> {
  return readParsed(`${procRoot}/${pid}/cmdline`, true, parsePidCmdline);
}
