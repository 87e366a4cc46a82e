import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { readdirSync } from 'node:fs';
import { readText } from '../util/proc-io.js';
import { parsePidStatus, parsePidStatusMemory, readPidStatus } from './pid-status.js';

// Captured on this VM (kernel 6.18): the process of test/fixtures/captured/pid-shm-smaps.txt (Mems_allowed trimmed).
const ZOO = `Name:	zoo
Umask:	0022
State:	S (sleeping)
Tgid:	28203
Ngid:	0
Pid:	28203
PPid:	1
TracerPid:	0
Uid:	0	0	0	0
Gid:	0	0	0	0
FDSize:	256
Groups:	 
NStgid:	28203
NSpid:	28203
NSpgid:	28200
NSsid:	5909
Kthread:	0
VmPeak:	    8928 kB
VmSize:	    8928 kB
VmLck:	       0 kB
VmPin:	       0 kB
VmHWM:	    4584 kB
VmRSS:	    4584 kB
RssAnon:	     148 kB
RssFile:	    1360 kB
RssShmem:	    3076 kB
VmData:	     500 kB
VmStk:	     132 kB
VmExe:	       4 kB
VmLib:	    1528 kB
VmPTE:	      64 kB
VmSwap:	       0 kB
HugetlbPages:	       0 kB
CoreDumping:	0
THP_enabled:	1
untag_mask:	0xffffffffffffffff
Threads:	1
SigQ:	0/96365
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000000000200
SigIgn:	0000000000000006
SigCgt:	0000000000000000
CapInh:	0000000000000000
CapPrm:	000001fffeffffff
CapEff:	000001fffeffffff
CapBnd:	000001fffeffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
Seccomp_filters:	0
Speculation_Store_Bypass:	vulnerable
SpeculationIndirectBranch:	always enabled
Cpus_allowed:	3
Cpus_allowed_list:	0-1
Mems_allowed_list:	0
voluntary_ctxt_switches:	2
nonvoluntary_ctxt_switches:	1
`;

// kthreadd: no Vm*/Rss* lines (no mm). Mems_allowed trimmed.
const KTHREAD = `Name:	kthreadd
Umask:	0022
State:	S (sleeping)
Tgid:	2
Ngid:	0
Pid:	2
PPid:	0
TracerPid:	0
Uid:	0	0	0	0
Gid:	0	0	0	0
FDSize:	64
Groups:	 
NStgid:	2
NSpid:	2
NSpgid:	0
NSsid:	0
Kthread:	1
Threads:	1
SigQ:	0/96365
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000000000000
SigIgn:	ffffffffffffffff
SigCgt:	0000000000000000
CapInh:	0000000000000000
CapPrm:	000001ffffffffff
CapEff:	000001ffffffffff
CapBnd:	000001ffffffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
Seccomp_filters:	0
Speculation_Store_Bypass:	vulnerable
SpeculationIndirectBranch:	always enabled
Cpus_allowed:	3
Cpus_allowed_list:	0-1
Mems_allowed_list:	0
voluntary_ctxt_switches:	70
nonvoluntary_ctxt_switches:	1
`;

const MiB = 1024 * 1024;

describe('parsePidStatus', () => {
  it('parses a real process into bytes', () => {
    const s = parsePidStatus(ZOO);
    expect(s).toMatchObject({
      name: 'zoo',
      state: 'S',
      stateName: 'sleeping',
      tgid: 28203,
      pid: 28203,
      ppid: 1,
      tracerPid: 0,
      uid: { real: 0, effective: 0, saved: 0, filesystem: 0 },
      gid: { real: 0, effective: 0, saved: 0, filesystem: 0 },
      fdSize: 256,
      nsPid: [28203],
      kthread: false,
      threads: 1,
      vmPeakBytes: 8928 * 1024,
      vmSizeBytes: 8928 * 1024,
      vmRssBytes: 4584 * 1024,
      rssAnonBytes: 148 * 1024,
      rssFileBytes: 1360 * 1024,
      rssShmemBytes: 3076 * 1024,
      vmDataBytes: 500 * 1024,
      vmStkBytes: 132 * 1024,
      vmLibBytes: 1528 * 1024,
      vmSwapBytes: 0,
      voluntaryCtxtSwitches: 2,
      nonvoluntaryCtxtSwitches: 1,
    });
    // the kernel's own identity: RSS = anon + file + shmem
    expect(s.vmRssBytes).toBe((s.rssAnonBytes ?? 0) + (s.rssFileBytes ?? 0) + (s.rssShmemBytes ?? 0));
  });

  it('leaves memory of a kernel thread undefined, not 0', () => {
    const s = parsePidStatus(KTHREAD);
    expect(s).toMatchObject({ name: 'kthreadd', pid: 2, ppid: 0, kthread: true, threads: 1 });
    expect(s.vmRssBytes).toBeUndefined();
    expect(s.vmSwapBytes).toBeUndefined();
  });

  it('unescapes Name and keeps its spaces and tabs', () => {
    // prctl(PR_SET_NAME, "a\\b\nc\td e)(") shows in status as below (captured)
    const s = parsePidStatus(ZOO.replace('Name:\tzoo', 'Name:\ta\\\\b\\nc\td e)('));
    expect(s.name).toBe('a\\b\nc\td e)(');
    expect(parsePidStatus(ZOO.replace('Name:\tzoo', 'Name:\t  two  spaces ')).name).toBe('  two  spaces ');
  });

  it('reads nested pid namespaces and a traced process', () => {
    const s = parsePidStatus(
      ZOO.replace('NSpid:\t28203', 'NSpid:\t28203\t7\t1').replace('TracerPid:\t0', 'TracerPid:\t999'),
    );
    expect(s.nsPid).toEqual([28203, 7, 1]);
    expect(s.tracerPid).toBe(999);
  });

  it('treats lines of an old kernel as unknown', () => {
    const old = ZOO.split('\n')
      .filter((l) => !/^(Rss|NSpid|Kthread)/.test(l))
      .join('\n');
    const s = parsePidStatus(old);
    expect([s.rssAnonBytes, s.rssShmemBytes, s.nsPid, s.kthread]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(s.vmRssBytes).toBe(4584 * 1024);
  });

  it('keeps huge sizes', () => {
    const s = parsePidStatus(ZOO.replace('VmPeak:\t    8928 kB', 'VmPeak:\t18014398509481983 kB'));
    expect(s.vmPeakBytes).toBeGreaterThan(1e19);
  });

  it('rejects garbage with the line and token', () => {
    expect(() => parsePidStatus(ZOO.replace('VmRSS:\t    4584 kB', 'VmRSS:\t    4584 MB'))).toThrow(
      /line 23: bad VmRSS near " {4}4584 MB"/,
    );
    expect(() => parsePidStatus(ZOO.replace('Uid:\t0\t0\t0\t0', 'Uid:\t0\t0'))).toThrow(/bad Uid/);
    expect(() => parsePidStatus(ZOO.replace('PPid:\t1', 'PPid:\t-'))).toThrow(/bad PPid near "-"/);
    expect(() => parsePidStatus(ZOO.replace('State:\tS (sleeping)', 'State:\tsleeping'))).toThrow(
      /bad State/,
    );
    expect(() => parsePidStatus(ZOO.replace(/^Name:.*\n/, ''))).toThrow(/no Name/);
    expect(() => parsePidStatus(ZOO.replace(/^PPid:.*\n/m, ''))).toThrow(/no ppid/);
    expect(() => parsePidStatus('Name:\tx\ngarbage\n')).toThrow(ParseError);
    expect(() => parsePidStatus('')).toThrow(ParseError);
  });
});

describe('readPidStatus (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('agrees with ps on a sleeping process', async () => {
    const pid = child.pid as number;
    const r = readPidStatus('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    const ps = await run(['ps', '-o', 'rss=,nlwp=,ppid=,uid=,comm=,vsz=', '-p', String(pid)], {
      timeoutMs: 10_000,
    });
    const [rss, nlwp, ppid, uid, comm, vsz] = ps.stdout.trim().split(/\s+/);
    expect(r.value.vmRssBytes).toBe(Number(rss) * 1024);
    expect(r.value.threads).toBe(Number(nlwp));
    expect(r.value.ppid).toBe(Number(ppid));
    expect(r.value.ppid).toBe(process.pid);
    expect(r.value.uid?.effective).toBe(Number(uid));
    expect(r.value.name).toBe(comm);
    expect(r.value.vmSizeBytes).toBe(Number(vsz) * 1024);
  });

  it('agrees with Node about our own process', () => {
    const r = readPidStatus('/proc', process.pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    expect(r.value.pid).toBe(process.pid);
    expect(r.value.ppid).toBe(process.ppid);
    expect(r.value.uid?.effective).toBe(process.geteuid?.());
    // RSS moves between two reads; within 16 MiB of what Node itself measures
    expect(Math.abs((r.value.vmRssBytes as number) - process.memoryUsage.rss())).toBeLessThan(16 * MiB);
    expect(r.value.threads).toBeGreaterThan(1);
  });
});

describe('parsePidStatusMemory (the snapshot subset, same line parsers)', () => {
  it('gives what parsePidStatus gives for its lines, on every live process', () => {
    let n = 0;
    for (const name of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      const r = readText(`/proc/${name}/status`, true);
      if (!r.ok) continue;
      const full = parsePidStatus(r.text);
      expect(parsePidStatusMemory(r.text)).toEqual({
        uid: full.uid,
        vmRssBytes: full.vmRssBytes,
        rssAnonBytes: full.rssAnonBytes,
        rssFileBytes: full.rssFileBytes,
        rssShmemBytes: full.rssShmemBytes,
        vmSwapBytes: full.vmSwapBytes,
      });
      n++;
    }
    expect(n).toBeGreaterThan(10);
  });

  it('names the line and token of a bad value', () => {
    expect(() => parsePidStatusMemory('Name:\tx\nUid:\t0\t0\nVmRSS:\t1 kB\n')).toThrow(/line 2.*bad Uid/);
    expect(() => parsePidStatusMemory('Name:\tx\nVmRSS:\t12 MB\n')).toThrow(/bad VmRSS near "12 MB"/);
  });
});
