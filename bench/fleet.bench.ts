/**
 * Fleet scale, measured: `node --import tsx bench/fleet.bench.ts` (or `npm run bench -- fleet`).
 *
 * 1. Series and bytes per node per scrape: the export model on real samples of this machine (text
 *    exposition plain and gzipped, and the remote-write request protobuf + snappy).
 * 2. Remote-write throughput of one recorder into a real Prometheus (Debian's 2.42, loopback): one
 *    RemoteWriter (the recorder's sender, with its on-disk buffer) drains a backlog of one day of samples
 *    at 60 s; series-samples per second from the first send to the last acknowledgement.
 * 3. The time of fleet `leaks` (and `spikes`) over 3 nodes × 1 day: two more nodes are backfilled the
 *    same way (Prometheus takes samples up to a day old with `out_of_order_time_window`), then the fleet
 *    commands' code runs in this process against it, alternating leaks and spikes, medians of 3 runs;
 *    our CPU and Prometheus' CPU are both counted. Extrapolated to 10,000 nodes in the printout.
 *
 * The day is synthetic but shaped like a server: the processes of this machine as they are now (their
 * executables, arguments, sizes), each with its own CPU rate and a few % of memory noise, plus on node2 a
 * worker whose anonymous memory grows 200 MiB over the day (the leak the fleet run must find) and on
 * every node an importer whose CPU jumps from 1 % to 90 % at the same minute (the fleet onset).
 * Results go to bench/out/fleet.json. Does not need (and does not bring up) the bench state.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { compress } from 'snappyjs';
import { defineBench, machineInfo, writeResult, type BenchContext } from './harness.js';
import { Sampler } from '../src/record/sampler.js';
import { ExportModel, countSeries, renderText, type Family } from '../src/record/exporters/exposition.js';
import { RemoteWriter, encodeWriteRequest } from '../src/record/exporters/remote-write.js';
import { jsonLogger } from '../src/record/log.js';
import type { ProcessSampleInput, SampleInput } from '../src/store/index.js';
import { fleetLeaks, fleetSpikes } from '../src/fleet/analyze.js';
import { PrometheusApi } from '../src/fleet/prometheus-api.js';
import { Prometheus, freePort, havePrometheus } from '../test/fleet/prometheus.js';

const DAY_MS = 86_400_000;
const STEP_MS = 60_000;
const NODES = ['node1', 'node2', 'node3'];
const TARGET_NODES = 10_000;
const HZ = 100;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A small deterministic PRNG, so every run backfills the same day. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function health(intervalMs: number): Parameters<ExportModel['update']>[1] {
  return {
    intervalMs,
    stats: { processes: 0, vanished: 0, skipped: 0, detailed: 0, pssRead: 0, fdWalked: 0, durationMs: 20 },
    sources: [
      { source: 'sample', durationMs: 20, ok: true },
      { source: 'store', durationMs: 4, ok: true },
    ],
    samplesWritten: 1,
    samplesDropped: 0,
    self: { cpuMs: 1_000, rssBytes: 60 << 20 },
  };
}

/** 1. What one node exports per sample, on this machine as it is. */
function exportSize(): {
  processes: number;
  series: number;
  textBytes: number;
  gzipBytes: number;
  remoteWriteBytes: number;
  remoteWriteSnappyBytes: number;
  modelMs: number;
  base: SampleInput;
} {
  const sampler = new Sampler({ procRoot: '/proc', intervalMs: 1_000 });
  const model = new ExportModel();
  let input = sampler.sample(true);
  model.update(input, health(60_000));
  const end = Date.now() + 1_000;
  while (Date.now() < end) Math.sqrt(Math.random());
  input = sampler.sample(true);
  const t0 = performance.now();
  const families = model.update(input, health(60_000));
  const modelMs = performance.now() - t0;
  const text = renderText(families, 'node-with-a-typical-name-01');
  const { body } = encodeWriteRequest(families, 'node-with-a-typical-name-01', input.tMs);
  return {
    processes: input.processes.length,
    series: countSeries(families),
    textBytes: Buffer.byteLength(text),
    gzipBytes: gzipSync(text).length,
    remoteWriteBytes: body.length,
    remoteWriteSnappyBytes: compress(body).length,
    modelMs,
    base: input,
  };
}

interface ProcModel {
  p: ProcessSampleInput;
  cores: number;
  memNoise: number;
}

/** One node's synthetic day: the export model's families at every minute. */
function* syntheticDay(
  base: SampleInput,
  node: string,
  startMs: number,
  seed: number,
): Generator<{ tMs: number; families: Family[] }> {
  const r = rng(seed);
  const procs: ProcModel[] = base.processes.map((p) => ({
    p: { ...p, utimeTicks: 0, stimeTicks: 0, minorFaults: 0, majorFaults: 0 },
    // most processes idle, a few busy (heavy tail)
    cores: r() < 0.85 ? r() * 0.002 : r() ** 3 * 0.5,
    memNoise: 0.01 + r() * 0.03,
  }));
  const extra = (pid: number, comm: string, argv: string[], rss: number): ProcessSampleInput => ({
    pid,
    startTimeTicks: 1_000,
    ppid: 1,
    comm,
    kernelThread: false,
    exe: `/usr/local/bin/${comm}`,
    argv: [`/usr/local/bin/${comm}`, ...argv],
    uid: 1000,
    utimeTicks: 0,
    stimeTicks: 0,
    minorFaults: 0,
    majorFaults: 0,
    rssBytes: rss,
    anonBytes: rss * 0.8,
    threads: 4,
    fdCount: 40,
  });
  const leaky = extra(4_000_001, 'leaky-worker', ['--queue', 'orders'], 300 << 20);
  const importer = extra(4_000_002, 'importer', ['--feed', 'prices'], 120 << 20);
  if (node === 'node2') procs.push({ p: leaky, cores: 0.05, memNoise: 0.01 });
  procs.push({ p: importer, cores: 0.01, memNoise: 0.01 });
  const model = new ExportModel();
  const host = { ...base.host };
  const onsetMs = startMs + 15 * 3_600_000 + 60_000; // 15:01 into the day, on every node
  for (let t = startMs; t <= startMs + DAY_MS; t += STEP_MS) {
    let busy = 0;
    const processes: ProcessSampleInput[] = [];
    for (const m of procs) {
      let cores = m.cores * (0.7 + 0.6 * r());
      if (m.p === importer && t >= onsetMs) cores = 0.9 * (0.95 + 0.1 * r());
      const ticks = Math.round(cores * HZ * (STEP_MS / 1000));
      m.p.utimeTicks += Math.round(ticks * 0.8);
      m.p.stimeTicks += ticks - Math.round(ticks * 0.8);
      busy += ticks;
      const noise = 1 + m.memNoise * (2 * r() - 1);
      const out: ProcessSampleInput = { ...m.p };
      if (m.p.rssBytes !== undefined) out.rssBytes = Math.round(m.p.rssBytes * noise);
      if (m.p.anonBytes !== undefined) out.anonBytes = Math.round(m.p.anonBytes * noise);
      if (m.p === leaky) {
        const grown = ((t - startMs) / DAY_MS) * (200 << 20);
        out.anonBytes = Math.round((m.p.anonBytes ?? 0) * noise + grown);
        out.rssBytes = Math.round((m.p.rssBytes ?? 0) * noise + grown);
      }
      processes.push(out);
    }
    host.cpu_user_ticks = (host.cpu_user_ticks ?? 0) + Math.round(busy * 0.8);
    host.cpu_system_ticks = (host.cpu_system_ticks ?? 0) + busy - Math.round(busy * 0.8);
    host.cpu_idle_ticks = (host.cpu_idle_ticks ?? 0) + Math.max(0, 2 * HZ * 60 - busy);
    const input: SampleInput = { ...base, tMs: t, host: { ...host }, processes };
    yield { tMs: t, families: model.update(input, health(STEP_MS)) };
  }
}

function cpuTicksOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** 2. Backfills one node through a RemoteWriter; the drain is timed from the first send. */
async function backfill(
  url: string,
  dir: string,
  base: SampleInput,
  node: string,
  startMs: number,
  seed: number,
): Promise<{ node: string; samples: number; seriesSamples: number; drainMs: number; enqueueMs: number }> {
  const writer = new RemoteWriter({
    url: `${url}/api/v1/write`,
    bufferPath: join(dir, `${node}.buffer`),
    maxBufferBytes: 2 * 1024 ** 3,
    node,
    log: jsonLogger(() => undefined, 'error'),
  });
  let seriesSamples = 0;
  let samples = 0;
  let enqueueMs = 0;
  // The generation is synchronous, so the sender cannot start before the backlog is complete.
  for (const s of syntheticDay(base, node, startMs, seed)) {
    const t0 = performance.now();
    writer.push(s.families, s.tMs);
    enqueueMs += performance.now() - t0;
    seriesSamples += countSeries(s.families);
    samples++;
  }
  const t0 = performance.now();
  while (writer.health().samplesSent + writer.health().samplesRejected < seriesSamples) {
    if (writer.health().samplesDropped > 0) throw new Error('the buffer dropped samples');
    await new Promise((r) => setTimeout(r, 20));
  }
  const drainMs = performance.now() - t0;
  if (writer.health().samplesRejected > 0)
    throw new Error(`${node}: Prometheus rejected ${writer.health().samplesRejected} samples`);
  await writer.close(1_000);
  return { node, samples, seriesSamples, drainMs, enqueueMs };
}

export async function runFleetBench(log: (l: string) => void, runs = 3): Promise<unknown> {
  if (!havePrometheus)
    throw new Error('fleet bench: /usr/bin/prometheus is not installed (apt-get install prometheus)');
  const dir = mkdtempSync(join(tmpdir(), 'procsleuth-fleet-bench-'));
  const prom = new Prometheus({
    dir,
    port: await freePort(),
    config: 'global:\n  scrape_interval: 1m\nstorage:\n  tsdb:\n    out_of_order_time_window: 2d\n',
  });
  try {
    const size = exportSize();
    log(
      `fleet: one node here (${size.processes} processes): ${size.series} series per sample; text ${size.textBytes} B (${size.gzipBytes} B gzip); remote write ${size.remoteWriteBytes} B (${size.remoteWriteSnappyBytes} B snappy); model ${size.modelMs.toFixed(1)} ms`,
    );
    await prom.start();
    const promPid = (prom as unknown as { child?: { pid?: number } }).child?.pid;
    const endMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEP_MS;
    const startMs = endMs - DAY_MS;

    const first = await backfill(prom.url, dir, size.base, NODES[0]!, startMs, 1);
    const perSec = first.seriesSamples / (first.drainMs / 1000);
    log(
      `fleet: remote write of one recorder: ${first.seriesSamples} series-samples (${first.samples} samples) in ${(first.drainMs / 1000).toFixed(1)} s = ${Math.round(perSec)} samples/s`,
    );
    const rest = await Promise.all(
      NODES.slice(1).map((n, i) => backfill(prom.url, dir, size.base, n, startMs, i + 2)),
    );
    // let the head settle (out-of-order samples are merged at query time; no compaction needed)
    const api = new PrometheusApi(prom.url, { timeoutMs: 120_000 });
    const q = { startMs, endMs: endMs + 1, now: endMs };
    const times: { leaks: number[]; spikes: number[]; leaksPromCpuMs: number[]; leaksOwnCpuMs: number[] } = {
      leaks: [],
      spikes: [],
      leaksPromCpuMs: [],
      leaksOwnCpuMs: [],
    };
    let leaksDoc: Awaited<ReturnType<typeof fleetLeaks>> | undefined;
    let spikesDoc: Awaited<ReturnType<typeof fleetSpikes>> | undefined;
    let requests = 0;
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const p0 = cpuTicksOf(promPid);
      const c0 = process.cpuUsage();
      const r0 = api.requests;
      const b0 = api.bytes;
      let t0 = performance.now();
      leaksDoc = await fleetLeaks(api, q);
      times.leaks.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      times.leaksOwnCpuMs.push((c1.user + c1.system) / 1000);
      times.leaksPromCpuMs.push((cpuTicksOf(promPid) - p0) * (1000 / HZ));
      requests = api.requests - r0;
      bytes = api.bytes - b0;
      t0 = performance.now();
      spikesDoc = await fleetSpikes(api, q);
      times.spikes.push(performance.now() - t0);
    }
    const leakFound = leaksDoc?.suspects.filter((s) => s.verdict === 'leak') ?? [];
    const ev = spikesDoc?.fleetEvents[0];
    const leaksMs = median(times.leaks);
    const cpuPerNodeMs = (median(times.leaksOwnCpuMs) + median(times.leaksPromCpuMs)) / NODES.length;
    const result = {
      schema: 'procsleuth.bench/1' as const,
      name: 'fleet',
      title: 'fleet scale: export size, remote-write throughput, fleet leaks over 3 nodes × 1 day',
      startedAt: new Date().toISOString(),
      machine: machineInfo(),
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
      perNode: {
        processes: size.processes,
        series: size.series,
        textBytesPerScrape: size.textBytes,
        gzipBytesPerScrape: size.gzipBytes,
        remoteWriteBytesPerSample: size.remoteWriteBytes,
        remoteWriteSnappyBytesPerSample: size.remoteWriteSnappyBytes,
        exportModelMs: Math.round(size.modelMs * 10) / 10,
      },
      remoteWrite: {
        oneRecorder: {
          seriesSamples: first.seriesSamples,
          drainMs: Math.round(first.drainMs),
          samplesPerSecond: Math.round(perSec),
        },
        others: rest.map((r) => ({
          node: r.node,
          seriesSamples: r.seriesSamples,
          drainMs: Math.round(r.drainMs),
          samplesPerSecond: Math.round(r.seriesSamples / (r.drainMs / 1000)),
        })),
      },
      fleetLeaks: {
        nodes: NODES.length,
        dayOfSamplesAtMs: STEP_MS,
        runs,
        wallMs: times.leaks.map(Math.round),
        medianWallMs: Math.round(leaksMs),
        ownCpuMs: Math.round(median(times.leaksOwnCpuMs)),
        prometheusCpuMs: Math.round(median(times.leaksPromCpuMs)),
        requests,
        bytesReceived: bytes,
        pointsJudged: leaksDoc?.samples,
        series: leaksDoc?.scanned.series,
        judged: leaksDoc?.scanned.judged,
        leaksFound: leakFound.map((s) => `${s.entity.label} ${s.metric}`),
      },
      fleetSpikes: {
        wallMs: times.spikes.map(Math.round),
        medianWallMs: Math.round(median(times.spikes)),
        event: ev?.summary,
      },
      extrapolated10k: {
        nodes: TARGET_NODES,
        activeSeries: size.series * TARGET_NODES,
        samplesPerSecondAt60s: Math.round((size.series * TARGET_NODES) / 60),
        samplesPerSecondAt10s: Math.round((size.series * TARGET_NODES) / 10),
        remoteWriteBytesPerSecondAt60s: Math.round((size.remoteWriteSnappyBytes * TARGET_NODES) / 60),
        // CPU is what a bigger engine divides among its cores; wall is this 2-vCPU machine running
        // Prometheus and procsleuth together, 3 nodes fetched at once.
        fleetLeaksCpuSecondsPerNode: Math.round(cpuPerNodeMs) / 1000,
        fleetLeaksCpuHours: Math.round(((cpuPerNodeMs * TARGET_NODES) / 3_600_000) * 100) / 100,
        fleetLeaksWallHoursOnThisMachine:
          Math.round(((leaksMs / NODES.length) * TARGET_NODES) / 36_000) / 100,
        requests: Math.round((requests / NODES.length) * TARGET_NODES),
        bytesReceived: Math.round((bytes / NODES.length) * TARGET_NODES),
      },
    };
    log(
      `fleet: leaks over ${NODES.length} nodes × 1 day: ${times.leaks.map(Math.round).join(', ')} ms (median ${Math.round(leaksMs)} ms; our CPU ${result.fleetLeaks.ownCpuMs} ms, Prometheus CPU ${result.fleetLeaks.prometheusCpuMs} ms; ${requests} requests, ${bytes} bytes); found: ${result.fleetLeaks.leaksFound.join('; ') || 'nothing'}`,
    );
    log(`fleet: spikes: ${times.spikes.map(Math.round).join(', ')} ms; ${ev?.summary ?? 'no fleet event'}`);
    log(`fleet: at ${TARGET_NODES} nodes: ${JSON.stringify(result.extrapolated10k)}`);
    writeResult(result);
    return result;
  } finally {
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default defineBench({
  name: 'fleet',
  title: 'fleet scale: export size, remote-write throughput, fleet leaks over 3 nodes × 1 day',
  needsBenchState: false,
  run: (ctx: BenchContext) => runFleetBench(ctx.log, ctx.runs ?? 3),
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runFleetBench((l) => process.stderr.write(`${l}\n`)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
