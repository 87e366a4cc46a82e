import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { parsePidLimits, readPidLimits } from './pid-limits.js';

// Captured on this VM (kernel 6.18); the kernel pads every row, including the header, with blanks.
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             96365                96365                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96365                96365                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

describe('parsePidLimits', () => {
  it('parses every row of a real file', () => {
    const l = parsePidLimits(LIMITS);
    expect(l.openFiles).toEqual({ soft: 20000, hard: 20000, unit: 'files' });
    expect(l.addressSpace).toEqual({ soft: 'unlimited', hard: 'unlimited', unit: 'bytes' });
    expect(l.processes).toEqual({ soft: 96365, hard: 96365, unit: 'processes' });
    expect(l.lockedMemory).toEqual({ soft: 8388608, hard: 8388608, unit: 'bytes' });
    expect(l.stack).toEqual({ soft: 8388608, hard: 'unlimited', unit: 'bytes' });
    expect(l.core).toEqual({ soft: 0, hard: 'unlimited', unit: 'bytes' });
    expect(l.nicePriority).toEqual({ soft: 0, hard: 0, unit: undefined });
    expect(l.realtimeTimeout).toEqual({ soft: 'unlimited', hard: 'unlimited', unit: 'us' });
    expect(Object.keys(l).sort()).toEqual(
      [
        'addressSpace',
        'core',
        'cpuTime',
        'dataSize',
        'fileLocks',
        'fileSize',
        'lockedMemory',
        'msgqueueSize',
        'nicePriority',
        'openFiles',
        'pendingSignals',
        'processes',
        'realtimePriority',
        'realtimeTimeout',
        'residentSet',
        'stack',
      ].sort(),
    );
  });

  it('keeps a row of a newer kernel under other', () => {
    const l = parsePidLimits(
      `${LIMITS}Max shiny things          5                    unlimited            things    \n`,
    );
    expect(l.other).toEqual({ shinyThings: { soft: 5, hard: 'unlimited', unit: 'things' } });
  });

  it('reads huge limits and rows without padding', () => {
    const l = parsePidLimits('Max open files 18446744073709551614 18446744073709551614 files');
    expect(l.openFiles?.soft).toBeGreaterThan(1.8e19);
  });

  it('rejects garbage with the line and token', () => {
    expect(() =>
      parsePidLimits(LIMITS.replace('20000                files', 'lots                 files')),
    ).toThrow(/line 9: bad hard limit near "lots"/);
    expect(() => parsePidLimits(`${LIMITS}Max open files\n`)).toThrow(/no limit value/);
    expect(() => parsePidLimits('Max open files 1 2 files extra')).toThrow(ParseError);
  });
});

describe('readPidLimits (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    // a process with limits of its own: prlimit sets them before exec
    child = spawn('prlimit', ['--nofile=123:456', '--core=0:unlimited', 'sleep', '300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('matches prlimit', async () => {
    const pid = child.pid as number;
    const r = readPidLimits('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    expect(r.value.openFiles).toEqual({ soft: 123, hard: 456, unit: 'files' });
    expect(r.value.core).toEqual({ soft: 0, hard: 'unlimited', unit: 'bytes' });
    const out = await run(
      ['prlimit', '--pid', String(pid), '--noheadings', '--raw', '-o', 'RESOURCE,SOFT,HARD'],
      { timeoutMs: 10_000 },
    );
    const byResource = new Map(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const [res, soft, hard] = l.trim().split(/\s+/);
          return [
            res,
            {
              soft: soft === 'unlimited' ? soft : Number(soft),
              hard: hard === 'unlimited' ? hard : Number(hard),
            },
          ];
        }),
    );
    expect(byResource.get('NOFILE')).toEqual({ soft: 123, hard: 456 });
    const pairs = {
      AS: 'addressSpace',
      NPROC: 'processes',
      MEMLOCK: 'lockedMemory',
      STACK: 'stack',
      CORE: 'core',
      CPU: 'cpuTime',
    } as const;
    for (const [res, key] of Object.entries(pairs)) {
      expect({ res, soft: r.value[key]?.soft, hard: r.value[key]?.hard }).toEqual({
        res,
        ...byResource.get(res),
      });
    }
  });
});
