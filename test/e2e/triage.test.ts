/**
 * Issue 3, "tested on real misbehaviour": scenario programs started here, triage run on them as a
 * user would (the built CLI, --json), findings asserted by rule and pid.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario, stopAllScenarios, type RunningScenario } from '../helpers/scenarios.js';
import { runCli, runCmd } from '../helpers/cli.js';
import type { TriageReport } from '../../src/rules/types.js';

async function triageJson(
  args: string[],
): Promise<{ code: number | null; report: TriageReport; stderr: string }> {
  const r = await runCli(['triage', '--json', ...args], { timeoutMs: 90_000 });
  if (r.code === 2) throw new Error(`triage failed: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as TriageReport, stderr: r.stderr };
}

async function installed(cmd: string): Promise<boolean> {
  return (await runCmd(['sh', '-c', `command -v ${cmd}`])).code === 0;
}

describe('busy-poll: workers spinning on read(11) of a non-blocking unix socket', () => {
  let busy: RunningScenario<'busy-read'>;
  beforeAll(async () => {
    busy = await startScenario('busy-read', ['--workers', '3']);
  });
  afterAll(async () => {
    await busy.stop();
  });

  const backends = ['bpf', 'bpftrace', 'perf', 'strace', 'proc'] as const;
  for (const backend of backends) {
    it(`names exactly those pids and fd 11 as a unix socket (${backend})`, async (ctx) => {
      // bpf and proc are ours (bpf is built by `npm install`): they must work, never skip
      if (backend !== 'proc' && backend !== 'bpf' && !(await installed(backend))) ctx.skip();
      const { code, report } = await triageJson([
        '--tracer',
        backend,
        '--trace-seconds',
        '2',
        '--pid',
        busy.info.pids.join(','),
      ]);
      expect(code).toBe(1);
      expect(report.profile?.backend).toBe(backend);
      const bp = report.findings.filter((f) => f.rule === 'busy-poll');
      expect(bp, JSON.stringify(report.findings.map((f) => f.title))).toHaveLength(1);
      const f = bp[0];
      const seen = JSON.stringify(
        report.profile?.fds.map((x) => [x.pid, x.fd, Math.round(x.ratePerSec), x.blockedCalls]),
      );
      // Every pid named is one of the workers. On a saturated CI machine (other test files running on
      // the same 2 cores) one of three workers was twice left out of a 2 s trace, by perf and by bpf:
      // two of the three must be named, and on a quiet machine all three are.
      const named = [...(f?.pids ?? [])];
      expect(
        named.every((p) => busy.info.pids.includes(p)),
        seen,
      ).toBe(true);
      expect(named.length, seen).toBeGreaterThanOrEqual(os.loadavg()[0]! > 2 ? 2 : 3);
      expect(f?.evidence['fd']).toBe(11);
      expect(String(f?.evidence['fdTarget'])).toMatch(/^unix STREAM .*procsleuth-busy-read-\d+\.sock/);
      expect(f?.title).toMatch(/fd 11 \(unix socket\)/);
      // Only the in-kernel counters see the true rate; under strace/perf the rate is cut 20-35×, and how
      // much CPU the workers got depends on what else this 2-core machine runs.
      if (backend === 'bpftrace' || backend === 'bpf') expect(f?.severity).toBe('critical');
      else expect(['critical', 'warning']).toContain(f?.severity);
    });
  }

  it('picks the hottest group by itself and prints it for a person', async () => {
    const r = await runCli(['--trace-seconds', '2'], {
      timeoutMs: 90_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/busy-poll/);
    expect(r.stdout).toMatch(/fd 11/);
    expect(r.stdout.includes(String.fromCharCode(27))).toBe(false);
  });
});

describe('socket, fd and memory misbehaviour', () => {
  let cw: RunningScenario<'close-wait-server'>;
  let fdl: RunningScenario<'fd-leak'>;
  let shm: RunningScenario<'shm-map'>;
  let report: TriageReport;
  beforeAll(async () => {
    [cw, fdl, shm] = await Promise.all([
      startScenario('close-wait-server'),
      startScenario('fd-leak', ['--limit', '256', '--open', '240']),
      startScenario('shm-map', ['--mib', '512']),
    ]);
    const { connect } = await import('node:net');
    await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          new Promise<void>((res, rej) => {
            const s = connect(cw.info.port, '127.0.0.1', () => {
              s.destroy();
              res();
            });
            s.on('error', rej);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    ({ report } = await triageJson(['--no-trace', '--cpu-window', '250ms']));
  });
  afterAll(async () => {
    await stopAllScenarios();
  });

  it('close-wait names the server that never closes', () => {
    const f = report.findings.find((x) => x.rule === 'close-wait' && x.pids.includes(cw.pid));
    expect(f?.severity).toBe('warning');
    expect(f?.evidence['closeWait']).toBe(60);
    expect(f?.title).toMatch(/60 sockets in CLOSE_WAIT/);
  });

  it('fd-exhaustion names the process near its RLIMIT_NOFILE', () => {
    const f = report.findings.find((x) => x.rule === 'fd-exhaustion' && x.pids.includes(fdl.pid));
    expect(f).toBeDefined();
    expect(f?.evidence['fdLimit']).toBe(256);
    expect(f?.evidence['fdCount']).toBeGreaterThanOrEqual(240);
    expect(f?.severity).toBe('warning');
  });

  it('shared-memory names the 512 MiB /dev/zero mapping', () => {
    const f = report.findings.find((x) => x.rule === 'shared-memory' && x.pids.includes(shm.pid));
    expect(f).toBeDefined();
    expect(f?.evidence['shmMappedBytes']).toBeGreaterThanOrEqual(512 * 1024 ** 2);
    expect(f?.evidence['shmemRssBytes']).toBeGreaterThanOrEqual(512 * 1024 ** 2);
  });

  it('every finding carries the contract fields', () => {
    for (const f of report.findings) {
      expect(f).toEqual(
        expect.objectContaining({
          rule: expect.any(String),
          severity: expect.stringMatching(/^(critical|warning|info)$/),
          title: expect.any(String),
          summary: expect.any(String),
          pids: expect.any(Array),
          evidence: expect.any(Object),
        }),
      );
    }
    expect(report.schema).toBe('procsleuth.triage/1');
  });
});
