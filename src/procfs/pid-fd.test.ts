import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../util/spawn.js';
import { classifyFdTarget, countFds, readPidFds } from './pid-fd.js';

// `ls -l /proc/PID/fd` of a C program on this VM (kernel 6.18) holding one fd of each kind.
const CAPTURED = `0 /dev/null
3 /memfd:zoo-buf (deleted)
4 /tmp/psz/deleted file with spaces (deleted)
5 anon_inode:[eventfd]
6 anon_inode:[eventpoll]
7 anon_inode:inotify
8 anon_inode:[timerfd]
9 anon_inode:[signalfd]
11 anon_inode:[pidfd]
12 pipe:[169416]
14 socket:[169417]
16 /etc/hostname`;

describe('classifyFdTarget', () => {
  it('classifies every kind captured from a real process', () => {
    const got = CAPTURED.split('\n').map((l) => classifyFdTarget(l.slice(l.indexOf(' ') + 1)));
    expect(got).toEqual([
      { kind: 'file', path: '/dev/null', deleted: false },
      { kind: 'memfd', path: '/memfd:zoo-buf', deleted: true },
      { kind: 'file', path: '/tmp/psz/deleted file with spaces', deleted: true },
      { kind: 'eventfd' },
      { kind: 'eventpoll' },
      { kind: 'inotify' },
      { kind: 'timerfd' },
      { kind: 'signalfd' },
      { kind: 'pidfd' },
      { kind: 'pipe', inode: 169416 },
      { kind: 'socket', inode: 169417 },
      { kind: 'file', path: '/etc/hostname', deleted: false },
    ]);
  });

  it('handles other anonymous inodes, namespaces and junk', () => {
    expect(classifyFdTarget('anon_inode:[io_uring]')).toEqual({ kind: 'anon' });
    expect(classifyFdTarget('anon_inode:bpf-map')).toEqual({ kind: 'anon' });
    expect(classifyFdTarget('anon_inode:[fanotify]')).toEqual({ kind: 'anon' });
    expect(classifyFdTarget('net:[4026531840]')).toEqual({ kind: 'other', inode: 4026531840 });
    expect(classifyFdTarget('pidfd:[21042]')).toEqual({ kind: 'pidfd', inode: 21042 });
    expect(classifyFdTarget('socket:[abc]')).toEqual({ kind: 'other' });
    expect(classifyFdTarget('socket:[1')).toEqual({ kind: 'other' });
    expect(classifyFdTarget('')).toEqual({ kind: 'other' });
    // a file literally named like a deleted one is indistinguishable; the suffix wins, as in lsof
    expect(classifyFdTarget('/x (deleted) (deleted)')).toEqual({
      kind: 'file',
      path: '/x (deleted)',
      deleted: true,
    });
  });
});

describe('readPidFds and countFds on a captured tree', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pid-fd-'));
    mkdirSync(join(root, '42', 'fd'), { recursive: true });
    for (const l of CAPTURED.split('\n')) {
      const sp = l.indexOf(' ');
      symlinkSync(l.slice(sp + 1), join(root, '42', 'fd', l.slice(0, sp)));
    }
    writeFileSync(join(root, '42', 'fd', 'junk'), '');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists fds sorted, skipping non-numeric names', () => {
    const r = readPidFds(root, 42);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    expect(r.value.map((e) => e.fd)).toEqual([0, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 16]);
    expect(r.value[1]).toEqual({ fd: 3, target: '/memfd:zoo-buf (deleted)' });
  });

  it('counts by listing when the root is not a live procfs', () => {
    // 12 links + the junk file: the fallback counts directory entries, as `ls | wc -l` would
    expect(countFds(root, 42)).toEqual({ ok: true, value: 13 });
  });

  it('reports a missing process as gone', () => {
    expect(readPidFds(root, 43)).toEqual({ ok: false, failure: { kind: 'gone' } });
    expect(countFds(root, 43)).toEqual({ ok: false, failure: { kind: 'gone' } });
    expect(countFds('/proc', 2 ** 22 + 11)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });
});

describe('readPidFds and countFds (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    // fds 0–2 plus two socketpairs Node makes for 'pipe' stdio
    child = spawn('sleep', ['300'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('lists what ls lists and counts the same by stat', async () => {
    const pid = child.pid as number;
    const r = readPidFds('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    const ls = await run(['ls', `/proc/${pid}/fd`], { timeoutMs: 10_000 });
    expect(r.value.map((e) => e.fd)).toEqual(
      ls.stdout
        .trim()
        .split('\n')
        .map(Number)
        .sort((a, b) => a - b),
    );
    expect(countFds('/proc', pid)).toEqual({ ok: true, value: r.value.length });
    const kinds = r.value.map((e) => classifyFdTarget(e.target).kind);
    expect(kinds.filter((k) => k === 'socket')).toHaveLength(2);
  });

  it('sees a file this process opened, then unlinked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pid-fd-live-'));
    const path = join(dir, 'held open');
    writeFileSync(path, 'x');
    const fd = openSync(path, 'r');
    try {
      const find = (): string | undefined => {
        const r = readPidFds('/proc', process.pid);
        return r.ok ? r.value.find((e) => e.fd === fd)?.target : undefined;
      };
      expect(classifyFdTarget(find() ?? '')).toEqual({ kind: 'file', path, deleted: false });
      unlinkSync(path);
      expect(classifyFdTarget(find() ?? '')).toEqual({ kind: 'file', path, deleted: true });
      const n = countFds('/proc', process.pid);
      expect(n.ok && n.value).toBeGreaterThan(fd - 1);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
