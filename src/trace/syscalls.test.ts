import { describe, expect, it } from 'vitest';
import { canonicalErrno, errnoName, errnoNumber, fdSyscallNrs, syscallName, syscallNr } from './syscalls.js';

describe('syscall tables', () => {
  it('maps x86_64 numbers to names (from syscall_64.tbl)', () => {
    expect(syscallName(0, 'x86_64')).toBe('read');
    expect(syscallName(1, 'x86_64')).toBe('write');
    expect(syscallName(232, 'x86_64')).toBe('epoll_wait');
    expect(syscallName(270, 'x86_64')).toBe('pselect6');
    expect(syscallName(435, 'x86_64')).toBe('clone3');
    expect(syscallName(462, 'x86_64')).toBe('mseal');
    expect(syscallName(9999, 'x86_64')).toBe('syscall_9999');
  });

  it('maps aarch64 numbers to names (asm-generic table)', () => {
    expect(syscallName(63, 'aarch64')).toBe('read');
    expect(syscallName(64, 'aarch64')).toBe('write');
    expect(syscallName(22, 'aarch64')).toBe('epoll_pwait');
    expect(syscallName(79, 'aarch64')).toBe('newfstatat');
    expect(syscallName(221, 'aarch64')).toBe('execve');
    expect(syscallName(244, 'aarch64')).toBe('syscall_244');
    // aarch64 has no plain open/poll/epoll_wait.
    expect(syscallNr('open', 'aarch64')).toBeUndefined();
    expect(syscallNr('epoll_wait', 'aarch64')).toBeUndefined();
  });

  it('maps names back, including syscall_NNN', () => {
    expect(syscallNr('read', 'x86_64')).toBe(0);
    expect(syscallNr('read', 'aarch64')).toBe(63);
    expect(syscallNr('syscall_777', 'x86_64')).toBe(777);
    expect(syscallNr('nosuchcall', 'x86_64')).toBeUndefined();
  });

  it('names errnos, with EWOULDBLOCK folded into EAGAIN', () => {
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(4)).toBe('EINTR');
    expect(errnoName(110)).toBe('ETIMEDOUT');
    expect(errnoName(512)).toBe('ERESTARTSYS');
    expect(errnoName(4000)).toBe('E4000');
    expect(errnoNumber('EWOULDBLOCK')).toBe(11);
    expect(canonicalErrno('EWOULDBLOCK')).toBe('EAGAIN');
    expect(canonicalErrno('EXYZ')).toBe('EXYZ');
  });

  it('lists fd-taking syscall numbers for both arches', () => {
    expect(fdSyscallNrs('x86_64')).toContain(0);
    expect(fdSyscallNrs('x86_64')).not.toContain(257); // openat takes a dirfd
    expect(fdSyscallNrs('aarch64')).toContain(63);
    expect(fdSyscallNrs('aarch64').length).toBeGreaterThan(50);
  });
});
