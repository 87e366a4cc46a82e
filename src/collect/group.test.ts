import { describe, expect, it } from 'vitest';
import { groupKey, groupProcesses, normaliseArgs } from './group.js';
import type { ProcessInfo } from './types.js';

describe('normaliseArgs', () => {
  it('folds the random part of temporary paths', () => {
    expect(normaliseArgs(['--db', '/tmp/x-AbC123/rec.db'])).toBe('--db /tmp/x-#/rec.db');
    expect(normaliseArgs(['--db=/tmp/x-q9Zk2m/rec.db'])).toBe('--db=/tmp/x-#/rec.db');
    expect(normaliseArgs(['/var/tmp/tmp.k3J9dk2LQz/sock'])).toBe('/var/tmp/tmp.#/sock');
    expect(normaliseArgs(['/dev/shm/a1b2c3d4e5'])).toBe('/dev/shm/#');
    expect(normaliseArgs(['/run/user/1000/app-Zx81Qp/s'])).toBe('/run/user/#/app-#/s');
    // two runs of one program are one group
    expect(normaliseArgs(['--db', '/tmp/rec-Fw3kPq/db'])).toBe(normaliseArgs(['--db', '/tmp/rec-9aXmL2/db']));
  });

  it('keeps words that only look like suffixes, and paths outside temporary directories', () => {
    expect(normaliseArgs(['/tmp/procsleuth-bench-state.json'])).toBe('/tmp/procsleuth-bench-state.json');
    expect(normaliseArgs(['/tmp/build/output.sqlite'])).toBe('/tmp/build/output.sqlite');
    expect(normaliseArgs(['/srv/app-AbC123/config'])).toBe('/srv/app-AbC123/config');
    expect(normaliseArgs(['-m', 'http.server'])).toBe('-m http.server');
  });

  it('folds numbers that are ids, hex ids and UUIDs', () => {
    expect(normaliseArgs(['--port', '8080', 'worker_12', 'w-3'])).toBe('--port # worker_# w-#');
    expect(normaliseArgs(['--id=deadbeefcafe', '123e4567-e89b-12d3-a456-426614174000'])).toBe('--id=# #');
    expect(normaliseArgs(['python3', 'x86'])).toBe('python3 x86');
  });
});

describe('groupProcesses', () => {
  const proc = (pid: number, argv: string[]): ProcessInfo =>
    ({
      pid,
      exe: '/usr/bin/node',
      argv: ['node', ...argv],
      comm: 'node',
      kernelThread: false,
      threads: 1,
      cpuPercent: 1,
      rssBytes: 10,
    }) as ProcessInfo;

  it('puts runs that differ only in their temp dir in one group', () => {
    const g = groupProcesses([
      proc(1, ['rec.js', '--db', '/tmp/r-AAbb11/db']),
      proc(2, ['rec.js', '--db', '/tmp/r-CCdd22/db']),
      proc(3, ['other.js']),
    ]);
    expect(g.map((x) => x.count).sort()).toEqual([1, 2]);
    expect(groupKey(proc(1, ['--db', '/tmp/r-AAbb11/db']))).toBe('/usr/bin/node\u0000--db /tmp/r-#/db');
  });
});
