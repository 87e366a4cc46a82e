/**
 * /proc/stat — proc_stat(5).
 *
 *   cpu  17334 0 5509 182698 708 0 182 1534 0 0
 *   cpu0 5987 0 2349 94725 164 0 15 801 0 0
 *   ctxt 650559
 *
 * CPU times are in USER_HZ ticks (sysconf(_SC_CLK_TCK), 100 on every mainstream arch). Kernels add
 * columns over time (iowait 2.5.41, irq/softirq 2.6.0, steal 2.6.11, guest 2.6.24, guest_nice 2.6.33):
 * a column the kernel did not print is undefined. guest and guest_nice are ALREADY counted in user and
 * nice; do not add them again when summing. Offline CPUs have no `cpuN` line, so `cpus` may have gaps.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface CpuTimes {
  userTicks: number;
  niceTicks: number;
  systemTicks: number;
  idleTicks: number;
  iowaitTicks: number | undefined;
  irqTicks: number | undefined;
  softirqTicks: number | undefined;
  stealTicks: number | undefined;
  /** Included in userTicks. */
  guestTicks: number | undefined;
  /** Included in niceTicks. */
  guestNiceTicks: number | undefined;
}

export interface ProcStat {
  /** The `cpu` line: all CPUs summed. */
  cpu: CpuTimes;
  /** One per `cpuN` line, in file order. */
  cpus: (CpuTimes & { cpu: number })[];
  contextSwitches: number | undefined;
  /** `btime`: boot time, seconds since the epoch. */
  bootTimeEpochSeconds: number | undefined;
  /** `processes`: forks (and clones) since boot. */
  forksSinceBoot: number | undefined;
  procsRunning: number | undefined;
  procsBlocked: number | undefined;
  /** First number of `intr`: all interrupts serviced since boot. */
  interruptsTotal: number | undefined;
  /** First number of `softirq`. */
  softirqsTotal: number | undefined;
}

const CPU_FIELDS = [
  'userTicks',
  'niceTicks',
  'systemTicks',
  'idleTicks',
  'iowaitTicks',
  'irqTicks',
  'softirqTicks',
  'stealTicks',
  'guestTicks',
  'guestNiceTicks',
] as const;

export function parseStat(text: string): ProcStat {
  let cpu: CpuTimes | undefined;
  const cpus: (CpuTimes & { cpu: number })[] = [];
  const singles = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    const f = raw.trim().split(/\s+/);
    const key = f[0] ?? '';
    const num = (tok: string | undefined): number => {
      if (tok === undefined || !/^\d+$/.test(tok))
        throw new ParseError(`bad ${key} value`, { line: i + 1, token: tok ?? raw });
      const v = Number(tok);
      if (!Number.isSafeInteger(v))
        throw new ParseError(`${key} value too large`, { line: i + 1, token: tok });
      return v;
    };
    if (key === 'cpu' || /^cpu\d+$/.test(key)) {
      if (f.length < 5)
        throw new ParseError(`${key} has ${f.length - 1} columns, need 4`, { line: i + 1, token: raw });
      const t = {} as Record<(typeof CPU_FIELDS)[number], number | undefined>;
      CPU_FIELDS.forEach((name, k) => (t[name] = f[k + 1] === undefined ? undefined : num(f[k + 1])));
      const times = t as CpuTimes;
      if (key === 'cpu') cpu = times;
      else cpus.push({ cpu: Number(key.slice(3)), ...times });
    } else if (
      ['ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked', 'intr', 'softirq'].includes(key)
    ) {
      singles.set(key, num(f[1]));
    }
    // Other lines (page, swap on 2.4; future additions) carry nothing we use.
  }
  if (cpu === undefined)
    throw new ParseError('no "cpu" line', { line: 1, token: text.slice(0, 60) || '<empty>' });
  return {
    cpu,
    cpus,
    contextSwitches: singles.get('ctxt'),
    bootTimeEpochSeconds: singles.get('btime'),
    forksSinceBoot: singles.get('processes'),
    procsRunning: singles.get('procs_running'),
    procsBlocked: singles.get('procs_blocked'),
    interruptsTotal: singles.get('intr'),
    softirqsTotal: singles.get('softirq'),
  };
}

export function readStat(procRoot: string): ProcStat {
  const path = `${procRoot}/stat`;
  return parseWithPath(path, readRequired(path), parseStat);
}
