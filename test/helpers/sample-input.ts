/** A recorded process for tests that feed the store or the exporters directly: an idle one by default. */
import type { ProcessSampleInput } from '../../src/store/index.js';

export function processInput(pid: number, over: Partial<ProcessSampleInput> = {}): ProcessSampleInput {
  return {
    pid,
    startTimeTicks: 1000 + pid,
    ppid: 1,
    comm: `p${pid}`,
    kernelThread: false,
    exe: `/usr/bin/p${pid}`,
    argv: [`p${pid}`],
    utimeTicks: 0,
    stimeTicks: 0,
    minorFaults: 0,
    majorFaults: 0,
    rssBytes: 1_000_000,
    threads: 1,
    fdCount: 4,
    ...over,
  };
}
