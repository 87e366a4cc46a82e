/**
 * No false alarms: triage on this machine, with nothing misbehaving, finds no warning or critical.
 * This file runs in its own project before all others (vitest.config.ts), so no scenario of another
 * test is running while it judges the host.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { TriageReport } from '../../src/rules/types.js';

describe('a quiet host', () => {
  it('gets no warning or critical finding, and exit code 0', async () => {
    const r = await runCli(['triage', '--json', '--trace-seconds', '1'], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as TriageReport;
    const serious = report.findings.filter((f) => f.severity !== 'info');
    expect(serious.map((f) => `${f.rule}: ${f.title}`)).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.schema).toBe('procsleuth.triage/1');
  });

  it('says so in words on a terminal-less run', async () => {
    const r = await runCli(['--no-trace'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No warning or critical finding/);
  });
});
