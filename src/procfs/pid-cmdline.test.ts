import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../util/spawn.js';
import { looksRewritten, parsePidCmdline, readPidCmdline } from './pid-cmdline.js';

describe('parsePidCmdline', () => {
  it('splits a real argv', () => {
    // captured on this VM: `./zoo 500`
    expect(parsePidCmdline('./zoo\x00500\x00')).toEqual(['./zoo', '500']);
    expect(parsePidCmdline('/usr/bin/node\x00-e\x00console.log("a b")\x00')).toEqual([
      '/usr/bin/node',
      '-e',
      'console.log("a b")',
    ]);
  });

  it('gives [] for a kernel thread or a zombie', () => {
    expect(parsePidCmdline('')).toEqual([]);
    expect(parsePidCmdline('\x00\x00')).toEqual([]);
  });

  it('handles a missing trailing NUL', () => {
    expect(parsePidCmdline('a\x00b')).toEqual(['a', 'b']);
    expect(parsePidCmdline('single')).toEqual(['single']);
  });

  it('keeps a title that replaced argv as one string', () => {
    // captured on this VM: perl -e '$0 = "nginx: worker process  is  here"; sleep 30'
    const argv = parsePidCmdline('nginx: worker process  is  here\x00');
    expect(argv).toEqual(['nginx: worker process  is  here']);
    expect(looksRewritten(argv)).toBe(true);
    // setproctitle pads the old argv area with NULs or spaces
    expect(parsePidCmdline('postgres: checkpointer   \x00\x00\x00\x00\x00')).toEqual([
      'postgres: checkpointer',
    ]);
    expect(parsePidCmdline('sshd: root@pts/0                                ')).toEqual(['sshd: root@pts/0']);
    expect(looksRewritten(['/usr/bin/sleep', '30'])).toBe(false);
    expect(looksRewritten(['/usr/bin/sleep'])).toBe(false);
  });

  it('keeps empty arguments in the middle', () => {
    expect(parsePidCmdline('prog\x00\x00x\x00')).toEqual(['prog', '', 'x']);
  });
});

describe('readPidCmdline (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300', '1'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('matches ps', async () => {
    const pid = child.pid as number;
    const r = readPidCmdline('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    expect(r.value).toEqual(['sleep', '300', '1']);
    const ps = await run(['ps', '-o', 'args=', '-p', String(pid)], { timeoutMs: 10_000 });
    expect(r.value.join(' ')).toBe(ps.stdout.trim());
    const me = readPidCmdline('/proc', process.pid);
    const mine = await run(['ps', '-o', 'args=', '-p', String(process.pid)], { timeoutMs: 10_000 });
    if (!me.ok) throw new Error('read failed');
    expect(me.value.join(' ')).toBe(mine.stdout.trim());
  });

  it('reads a kernel thread as []', () => {
    const r = readPidCmdline('/proc', 2);
    expect(r).toEqual({ ok: true, value: [] });
  });
});
