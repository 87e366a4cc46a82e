/**
 * /proc/<pid>/comm — proc_pid_comm(5): the command name, at most 15 bytes, then a newline.
 *
 *   nginx
 *
 * Unlike status's Name, comm is not escaped: it may hold spaces, tabs, parentheses, even a newline
 * (prctl(PR_SET_NAME, "a\nb")), so only the final newline is the terminator.
 */
import { readParsed, type Read } from '../util/proc-io.js';

export function parsePidComm(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export function readPidComm(procRoot: string, pid: number): Read<string> {
  return readParsed(`${procRoot}/${pid}/comm`, true, parsePidComm);
}
