/**
 * The output contract (DESIGN.md, "Output contracts") for triage, trace and report: the documents the
 * built CLI prints for real processes and real records validate against schema/triage.schema.json,
 * trace.schema.json and report.schema.json, and a document with a field renamed, deleted or mistyped
 * does not.
 *
 * One busy-read worker (spinning on read → EAGAIN) is traced; a mem-leak program is recorded for ~6 s
 * at 200 ms by `procsleuth record` while the triage and trace checks run; a generated record (test/report/gen.ts) has planted leakers and a CPU spike, so suspects and events with charts
 * are in the report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { validate } from '../helpers/schema.js';
import { startScenario, type RunningScenario } from '../helpers/scenarios.js';
import { generateRecord } from '../report/gen.js';
import type { TriageReport } from '../../src/rules/types.js';
import type { SyscallProfile } from '../../src/trace/types.js';
import type { ReportModel } from '../../src/report/html/model.js';

type Json = Record<string, unknown>;
interface TraceDoc {
  schema: string;
  profile: SyscallProfile;
  fds: Record<string, Json[]>;
}

const RECORD_MS = 6000;

let dir: string;
let genDb: string;
let recDb: string;
let busy: RunningScenario<'busy-read'>;
let memLeak: RunningScenario<'mem-leak'>;
let recorder: ChildProcess | undefined;
let recordStarted = 0;

/** Runs the built CLI; `ok` lists the exit codes that mean it worked (triage: 1 = findings). */
async function cli<T>(args: string[], ok: number[] = [0]): Promise<T> {
  const r = await runCli(args, { timeoutMs: 30_000 });
  if (r.code === null || !ok.includes(r.code))
    throw new Error(`procsleuth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A deep copy of `doc` changed by `f`: the negative checks. */
function mutated<T>(doc: T, f: (d: T) => void): T {
  const d = structuredClone(doc);
  f(d);
  return d;
}

function drop(o: unknown, key: string): void {
  expect(o).toHaveProperty(key);
  delete (o as Json)[key];
}

function rename(o: unknown, from: string, to: string): void {
  const r = o as Json;
  expect(r).toHaveProperty(from);
  r[to] = r[from];
  delete r[from];
}

/** Every chart draws each series over its time axis: one value per time. */
function chartsOf(doc: ReportModel): { id: string; t: number[]; series: { values: unknown[] }[] }[] {
  return [
    ...doc.hostCharts,
    ...doc.entities.flatMap((e) => e.charts),
    ...doc.leaks.suspects.flatMap((s) => (s.chart ? [s.chart] : [])),
    ...doc.spikes.events.flatMap((e) => (e.chart ? [e.chart] : [])),
    ...(doc.spikes.chart ? [doc.spikes.chart] : []),
  ];
}

function expectChartsAligned(doc: ReportModel): void {
  for (const c of chartsOf(doc))
    for (const s of c.series) expect(s.values.length, `chart ${c.id}`).toBe(c.t.length);
}

async function stopRecorder(): Promise<void> {
  const r = recorder;
  if (!r || r.exitCode !== null || r.signalCode !== null) return;
  const exited = new Promise((res) => r.once('exit', res));
  r.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-schemas-'));
  genDb = join(dir, 'gen.db');
  recDb = join(dir, 'rec.db');
  [busy, memLeak] = await Promise.all([
    startScenario('busy-read', ['--workers', '1']),
    startScenario('mem-leak', [
      '--mode',
      'steady',
      '--kib',
      '512',
      '--interval-ms',
      '100',
      '--max-kib',
      '65536',
    ]),
  ]);
  recorder = spawn(
    process.execPath,
    [BIN, 'record', '--interval', '200ms', '--db', recDb, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  recordStarted = Date.now();
  generateRecord(genDb, { processes: 30, samples: 400, intervalMs: 10_000 });
});

afterAll(async () => {
  await stopRecorder();
  await Promise.all([busy?.stop(), memLeak?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('schema/', () => {
  it('every schema compiles, with the cross-schema $refs resolved', () => {
    const names = readdirSync(resolve(import.meta.dirname, '../../schema'))
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => f.slice(0, -'.schema.json'.length));
    expect(names).toEqual(
      expect.arrayContaining(['triage', 'trace', 'report', 'snapshot', 'leaks', 'spikes']),
    );
    // validate() compiles the schema (and every one it refers to) before it judges the document
    for (const n of names) expect(() => validate(n, {})).not.toThrow();
  });
});

describe('triage --json (procsleuth.triage/1)', () => {
  it('--no-trace on this host', async () => {
    const doc = await cli<TriageReport>(['triage', '--json', '--no-trace', '--cpu-window', '300ms'], [0, 1]);
    expect(doc.schema).toBe('procsleuth.triage/1');
    expect(validate('triage', doc)).toEqual([]);
    expect(doc.profile).toBeUndefined();

    expect(
      validate(
        'triage',
        mutated(doc, (d) => drop(d, 'findings')),
      ),
    ).toContain(" must have required property 'findings'");
    expect(
      validate(
        'triage',
        mutated(doc, (d) => rename(d.host, 'memTotalBytes', 'memTotal')),
      ),
    ).toContain("/host must have required property 'memTotalBytes'");
    expect(
      validate(
        'triage',
        mutated(doc, (d) => rename(d, 'hotGroups', 'hot_groups')),
      ).length,
    ).toBeGreaterThan(0);
    // fs.file-max at LONG_MAX (systemd's default) is printed as "unlimited"
    const limits = (d: Json): Json => d['limits'] as Json;
    expect(
      validate(
        'triage',
        mutated(doc, (d) => (limits(d as unknown as Json)['fileMax'] = 'unlimited')),
      ),
    ).toEqual([]);
    expect(
      validate(
        'triage',
        mutated(doc, (d) => (limits(d as unknown as Json)['fileMax'] = 'lots')),
      ).length,
    ).toBeGreaterThan(0);
  });

  it('with a 1 s trace of a process spinning on read → EAGAIN: the profile validates too', async () => {
    const pid = busy.info.pids[0]!;
    const doc = await cli<TriageReport>(
      ['triage', '--json', '--trace-seconds', '1', '--pid', String(pid), '--cpu-window', '300ms'],
      [0, 1],
    );
    expect(validate('triage', doc)).toEqual([]);
    expect(doc.traced?.pids).toEqual([pid]);
    expect(doc.profile?.pids).toEqual([pid]);
    expect(doc.profile?.totalCalls).toBeGreaterThan(0);

    const bad = mutated(doc, (d) => rename(d.profile, 'durationMs', 'duration'));
    expect(validate('triage', bad)).toContain("/profile must have required property 'durationMs'");
    const typo = mutated(doc, (d) => {
      (d.profile!.syscalls[0] as unknown as Json).count = '12';
    });
    expect(validate('triage', typo)).toContain('/profile/syscalls/0/count must be integer');
    const finding = mutated(doc, (d) => rename(d.findings[0], 'next', 'nextStep'));
    expect(validate('triage', finding)).toContain('/findings/0 must NOT have additional properties');
  });
});

describe('trace PID --json (procsleuth.trace/1)', () => {
  it('--seconds 1 of a process spinning on read → EAGAIN, its fd resolved', async () => {
    const pid = busy.info.pids[0]!;
    const doc = await cli<TraceDoc>(['trace', String(pid), '--seconds', '1', '--json']);
    expect(doc.schema).toBe('procsleuth.trace/1');
    expect(validate('trace', doc)).toEqual([]);
    expect(doc.profile.pids).toEqual([pid]);
    const fds = Object.values(doc.fds).flat();
    if (doc.profile.unit === 'calls') expect(fds.map((f) => f.fd)).toContain(busy.info.fd);

    expect(
      validate(
        'trace',
        mutated(doc, (d) => rename(d.profile, 'totalCalls', 'total')),
      ),
    ).toContain("/profile must have required property 'totalCalls'");
    expect(
      validate(
        'trace',
        mutated(doc, (d) => ((d.profile as unknown as Json).backend = 'ptrace')),
      ),
    ).toContain('/profile/backend must be equal to one of the allowed values');
    if (fds.length)
      expect(
        validate(
          'trace',
          mutated(doc, (d) => rename(Object.values(d.fds).flat()[0], 'target', 'what')),
        ).length,
      ).toBeGreaterThan(0);
  });

  it('--tracer proc: the /proc sampler part validates', async () => {
    const pid = busy.info.pids[0]!;
    const doc = await cli<TraceDoc>(['trace', String(pid), '--seconds', '1', '--tracer', 'proc', '--json']);
    expect(validate('trace', doc)).toEqual([]);
    expect(doc.profile.unit).toBe('samples');
    expect(doc.profile.procSampling?.threads.length).toBeGreaterThan(0);
    const bad = mutated(doc, (d) => rename(d.profile.procSampling!.threads[0], 'runningSamples', 'running'));
    expect(validate('trace', bad)).toContain(
      "/profile/procSampling/threads/0 must have required property 'runningSamples'",
    );
  });
});

describe('report --json (procsleuth.report/2)', () => {
  it('on a generated record: the planted leakers and the CPU spike, drawn', async () => {
    const doc = await cli<ReportModel>(['report', '--json', '--no-triage', '--db', genDb]);
    expect(doc.schema).toBe('procsleuth.report/2');
    expect(validate('report', doc)).toEqual([]);
    expectChartsAligned(doc);
    expect(doc.leaks.suspects.filter((s) => s.chart).length).toBeGreaterThanOrEqual(3);
    expect(doc.spikes.events.filter((e) => e.chart).length).toBeGreaterThanOrEqual(1);
    expect(doc.spikes.aggregates.length).toBeGreaterThan(0);

    const suspect = mutated(doc, (d) => rename(d.leaks.suspects[0], 'slopePerHour', 'slope'));
    expect(validate('report', suspect)).toContain(
      "/leaks/suspects/0 must have required property 'slopePerHour'",
    );
    const chart = mutated(doc, (d) => drop(d.leaks.suspects[0]!.chart, 'unit'));
    expect(validate('report', chart)).toContain("/leaks/suspects/0/chart must have required property 'unit'");
    const event = mutated(doc, (d) => rename(d.spikes.events[0], 'onsetMs', 'onset_ms'));
    expect(validate('report', event)).toContain("/spikes/events/0 must have required property 'onsetMs'");
    const evidence = mutated(doc, (d) => drop(d.leaks.suspects[0]!.evidence, 'pGrowth'));
    expect(validate('report', evidence)).toContain(
      "/leaks/suspects/0/evidence must have required property 'pGrowth'",
    );
    const span = mutated(doc, (d) => rename(d.collection, 'spanSeconds', 'span'));
    expect(validate('report', span).length).toBeGreaterThan(0);
  });

  it('on a record made by procsleuth record: with and without a triage', async () => {
    await sleep(Math.max(0, recordStarted + RECORD_MS - Date.now()));
    await stopRecorder();
    expect(recorder?.exitCode, recorder?.stderr?.read()?.toString()).toBe(0);

    const plain = await cli<ReportModel>(['report', '--json', '--no-triage', '--db', recDb]);
    expect(validate('report', plain)).toEqual([]);
    expectChartsAligned(plain);
    expect(plain.triage).toBeUndefined();
    expect(plain.collection.samples).toBeGreaterThan(10);
    expect(plain.leaks.available).toBe(true);
    // 512 KiB every 100 ms: once the detector has its 24 samples, the leaker is a suspect
    if (plain.collection.samples >= 24)
      expect(plain.leaks.suspects.map((s) => s.entity.pid)).toContain(memLeak.pid);

    const full = await cli<ReportModel>(['report', '--json', '--db', recDb, '--trace-seconds', '1']);
    expect(validate('report', full)).toEqual([]);
    expectChartsAligned(full);
    expect(full.triage?.schema).toBe('procsleuth.triage/1');
    expect(full.host.source).toBe('snapshot');
    // the busy-read worker is hot: the triage inside traced it, and the report carries the profile
    expect(full.profile?.totalCalls).toBeGreaterThan(0);

    // the triage inside is judged by procsleuth.triage/1 (and its host by procsleuth.snapshot/1)
    const tri = mutated(full, (d) => drop(d.triage!.host, 'cpus'));
    expect(validate('report', tri)).toContain("/triage/host must have required property 'cpus'");
    const prof = mutated(full, (d) => rename(d.profile, 'perPid', 'per_pid'));
    expect(validate('report', prof)).toContain("/profile must have required property 'perPid'");
    const host = mutated(full, (d) => ((d.host as unknown as Json).memTotalBytes = '24 GiB'));
    expect(validate('report', host)).toContain('/host/memTotalBytes must be integer');
  });
});
