import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../util/spawn.js';
import { parsePidComm, readPidComm } from './pid-comm.js';

describe('parsePidComm', () => {
  it('strips only the final newline', () => {
    expect(parsePidComm('nginx\n')).toBe('nginx');
    // prctl(PR_SET_NAME, "a\\b\nc\td e)(") reads back raw from comm (captured on this VM)
    expect(parsePidComm('a\\b\nc\td e)(\n')).toBe('a\\b\nc\td e)(');
    expect(parsePidComm(' spaced \n')).toBe(' spaced ');
    expect(parsePidComm('no-newline')).toBe('no-newline');
    expect(parsePidComm('')).toBe('');
    expect(parsePidComm('\n')).toBe('');
  });
});

describe('readPidComm (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('matches ps', async () => {
    const pid = child.pid as number;
    const ps = await run(['ps', '-o', 'comm=', '-p', `${pid},${process.pid}`], { timeoutMs: 10_000 });
    const [ours, theirs] = [readPidComm('/proc', pid), readPidComm('/proc', process.pid)];
    if (!ours.ok || !theirs.ok) throw new Error('read failed');
    expect(
      ps.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim())
        .sort(),
    ).toEqual([ours.value, theirs.value].sort());
    expect(ours.value).toBe('sleep');
  });

  it('reports a missing process as gone', () => {
    expect(readPidComm('/proc', 2 ** 22 + 9)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });
});
