import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, constants as C } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { decodeOpenFlags, parsePidFdinfo, readPidFdinfo } from './pid-fdinfo.js';

// Captured on this VM (kernel 6.18, x86_64) from a C program holding one fd of each kind.
const CAP = {
  file: 'pos:\t3\nflags:\t0102000\nmnt_id:\t27\nino:\t612\n',
  memfd: 'pos:\t0\nflags:\t0100002\nmnt_id:\t0\nino:\t1060\n',
  eventfd:
    'pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t1039\neventfd-count:                7\neventfd-id: 5\neventfd-semaphore: 0\n',
  epoll:
    'pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1039\ntfd:        5 events: 80000019 data:               2a  pos:0 ino:40f sdev:10\n',
  inotify:
    'pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t1039\ninotify wd:1 ino:3f7e8 sdev:fe00000 mask:300 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000\n',
  timerfd:
    'pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1039\nclockid: 1\nticks: 0\nsettime flags: 00\nit_value: (98, 691886360)\nit_interval: (5, 0)\n',
  signalfd: 'pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1039\nsigmask:\t0000000000000200\n',
  pidfd: 'pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t21042\nPid:\t21041\nNSpid:\t21041\n',
  socket: 'pos:\t0\nflags:\t02\nmnt_id:\t10\nino:\t169417\nscm_fds: 0\n',
};

describe('parsePidFdinfo', () => {
  it('parses a plain file and decodes its flags', () => {
    const f = parsePidFdinfo(CAP.file, 'x64');
    expect(f).toMatchObject({
      posBytes: 3,
      flags: 0o102000,
      accessMode: 'read',
      flagNames: ['O_APPEND', 'O_LARGEFILE'],
      mntId: 27,
      ino: 612,
    });
    expect(f.eventfdCount).toBeUndefined();
    expect(parsePidFdinfo(CAP.memfd, 'x64')).toMatchObject({
      accessMode: 'readwrite',
      flagNames: ['O_LARGEFILE'],
      mntId: 0,
    });
  });

  it('reads the eventfd counter (hex) and id', () => {
    const f = parsePidFdinfo(CAP.eventfd.replace('               7', '              1f'), 'x64');
    expect(f).toMatchObject({
      eventfdCount: 31,
      eventfdId: 5,
      eventfdSemaphore: false,
      flagNames: ['O_NONBLOCK', 'O_CLOEXEC'],
    });
    expect(parsePidFdinfo(CAP.eventfd, 'x64').eventfdCount).toBe(7);
  });

  it('reads the targets of an epoll fd', () => {
    const f = parsePidFdinfo(
      `${CAP.epoll}tfd:       12 events:       19 data: ffff8880deadbeef  pos:0 ino:a1 sdev:8\n`,
      'x64',
    );
    expect(f.epollTargets).toEqual([
      { fd: 5, events: 0x80000019, data: '2a', ino: 0x40f },
      { fd: 12, events: 0x19, data: 'ffff8880deadbeef', ino: 0xa1 },
    ]);
  });

  it('reads inotify watches and timerfd settings', () => {
    expect(parsePidFdinfo(CAP.inotify, 'x64').inotifyWatches).toEqual([
      { wd: 1, ino: 0x3f7e8, sdev: 0xfe00000, mask: 0x300, ignoredMask: 0 },
    ]);
    expect(parsePidFdinfo(CAP.timerfd, 'x64').timerfd).toEqual({
      clockId: 1,
      ticks: 0,
      settimeFlags: 0,
      itValueNs: 98_691_886_360,
      itIntervalNs: 5e9,
    });
  });

  it('keeps other lines as text', () => {
    expect(parsePidFdinfo(CAP.signalfd, 'x64').extra).toEqual({ sigmask: '0000000000000200' });
    expect(parsePidFdinfo(CAP.pidfd, 'x64').extra).toEqual({ Pid: '21041', NSpid: '21041' });
    expect(parsePidFdinfo(CAP.socket, 'x64').extra).toEqual({ scm_fds: '0' });
  });

  it('decodes flags per architecture', () => {
    // O_DIRECTORY|O_NOFOLLOW: 0200000|0400000 on x86_64, 040000|0100000 on arm64
    expect(decodeOpenFlags(0o600000, 'x64').names).toEqual(['O_DIRECTORY', 'O_NOFOLLOW']);
    expect(decodeOpenFlags(0o140000, 'arm64').names).toEqual(['O_DIRECTORY', 'O_NOFOLLOW']);
    expect(decodeOpenFlags(0o140000, 'x64').names).toEqual(['O_DIRECT', 'O_LARGEFILE']);
    // O_SYNC and O_TMPFILE are composites: named once
    expect(decodeOpenFlags(0o4010001, 'x64')).toEqual({ accessMode: 'write', names: ['O_SYNC'] });
    expect(decodeOpenFlags(0o20200002, 'x64').names).toEqual(['O_TMPFILE']);
    expect(decodeOpenFlags(3, 'x64').accessMode).toBe('unknown');
  });

  it('rejects garbage with the line and token', () => {
    expect(() => parsePidFdinfo(CAP.file.replace('0102000', '0109000'), 'x64')).toThrow(
      /line 2: bad flags near "0109000"/,
    );
    expect(() => parsePidFdinfo(CAP.file.replace('pos:\t3', 'pos:\tx'), 'x64')).toThrow(/bad pos near "x"/);
    expect(() => parsePidFdinfo('flags:\t02\n', 'x64')).toThrow(/no pos line/);
    expect(() => parsePidFdinfo('pos:\t0\n', 'x64')).toThrow(/no flags line/);
    expect(() => parsePidFdinfo(CAP.eventfd.replace('               7', '               z'), 'x64')).toThrow(
      /bad eventfd-count/,
    );
    expect(() => parsePidFdinfo(`${CAP.epoll}tfd: 5 events: 19\n`, 'x64')).toThrow(/line 6: bad data/);
    expect(() => parsePidFdinfo(CAP.timerfd.replace('(5, 0)', '(5 0)'), 'x64')).toThrow(/bad timespec/);
    expect(() => parsePidFdinfo(`${CAP.file}garbage\n`, 'x64')).toThrow(ParseError);
    expect(() => parsePidFdinfo('', 'x64')).toThrow(ParseError);
  });
});

describe('readPidFdinfo (live)', () => {
  it('reports the position and flags of an fd this process opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pid-fdinfo-'));
    const path = join(dir, 'f');
    writeFileSync(path, 'hello world');
    const fd = openSync(path, C.O_RDWR | C.O_APPEND | C.O_NONBLOCK);
    try {
      readSync(fd, Buffer.alloc(5), 0, 5, null);
      const r = readPidFdinfo('/proc', process.pid, fd);
      if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
      expect(r.value.posBytes).toBe(5);
      expect(r.value.accessMode).toBe('readwrite');
      expect(r.value.flagNames).toEqual(expect.arrayContaining(['O_APPEND', 'O_NONBLOCK', 'O_CLOEXEC']));
      expect(r.value.flags & C.O_APPEND).toBe(C.O_APPEND);
      expect(r.value.flags & C.O_NONBLOCK).toBe(C.O_NONBLOCK);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an fd that is not open as gone', () => {
    expect(readPidFdinfo('/proc', process.pid, 987_654)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });
});
