/**
 * /proc/<pid>/task/<tid>/syscall — proc_pid_syscall(5) (proc(5), "/proc/pid/syscall").
 *
 *   270 0xfb 0x7ffcc0309fe0 0x0 0x0 0x7ffcc0309ef0 0x7ffcc0309f00 0x7ffcc0309ec0 0x7fd3c3025aec
 *   -1 0x7ffcc0309ec0 0x7fd3c3025aec
 *   running
 *
 * Blocked in a syscall: its number (decimal), six arguments, stack pointer and program counter (hex).
 * Blocked outside a syscall: -1, sp, pc. `running` whenever the thread is runnable, *including while
 * it executes a syscall*: the kernel only inspects a thread that is off the CPU and asleep, so a busy
 * loop of non-blocking syscalls always reads `running` (lib/syscall.c, task_current_syscall).
 * Reading another process's file needs ptrace-read access (root or same user, no dumpable clear).
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export type PidSyscall =
  | { state: 'running' }
  | { state: 'blocked'; spAddr: bigint; pcAddr: bigint }
  | {
      state: 'syscall';
      nr: number;
      args: [bigint, bigint, bigint, bigint, bigint, bigint];
      spAddr: bigint;
      pcAddr: bigint;
    };

export function parsePidSyscall(text: string): PidSyscall {
  const t = text.trim();
  if (t === 'running') return { state: 'running' };
  const f = t.split(/\s+/);
  const nrTok = f[0] ?? '';
  if (!/^-?\d+$/.test(nrTok))
    throw new ParseError('bad syscall number', { line: 1, token: nrTok || '<empty>' });
  const nr = Number(nrTok);
  if (nr === -1) {
    if (f.length !== 3)
      throw new ParseError(`blocked-outside-syscall line has ${f.length} fields, need 3`, {
        line: 1,
        token: t,
      });
    return { state: 'blocked', spAddr: hex(f[1]), pcAddr: hex(f[2]) };
  }
  if (nr < 0) throw new ParseError('negative syscall number', { line: 1, token: nrTok });
  if (f.length !== 9)
    throw new ParseError(`syscall line has ${f.length} fields, need 9`, { line: 1, token: t });
  const a = f.slice(1, 7).map(hex);
  return {
    state: 'syscall',
    nr,
    args: [a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n, a[4] ?? 0n, a[5] ?? 0n],
    spAddr: hex(f[7]),
    pcAddr: hex(f[8]),
  };
}

function hex(tok: string | undefined): bigint {
  if (tok === undefined || !/^0x[0-9a-f]{1,16}$/i.test(tok))
    throw new ParseError('bad hex value', { line: 1, token: tok ?? '<missing>' });
  return BigInt(tok);
}

/** An `int fd` argument as the kernel sees it: the low 32 bits, signed; undefined if negative. */
export function argAsFd(arg: bigint): number | undefined {
  const v = Number(BigInt.asIntN(32, arg));
  return v >= 0 ? v : undefined;
}

export function readPidSyscall(procRoot: string, pid: number, tid: number = pid): Read<PidSyscall> {
  return readParsed(`${procRoot}/${pid}/task/${tid}/syscall`, true, parsePidSyscall);
}
