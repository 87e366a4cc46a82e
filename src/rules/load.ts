/**
 * load: load averages against cores, running against blocked tasks, and CPU/memory/IO pressure.
 * A high load average alone is history (it decays over minutes); we raise it only when the host is
 * saturated NOW (CPU busy over the snapshot window, or PSI showing tasks waiting), so a machine that was
 * busy a minute ago is not an alarm.
 */
import type { Finding, Rule } from './types.js';

const LOAD_PER_CPU_WARN = 2;
const LOAD_PER_CPU_CRIT = 4;
/** Host CPU busy (percent of all cores) over the window that makes a high load "current". */
const BUSY_NOW_PERCENT = 80;
/** PSI cpu "some" avg10 (percent of time some task waited for a CPU). */
const PSI_CPU_WARN = 40;
const PSI_IO_WARN = 40;

export const load: Rule = ({ snapshot: s }) => {
  const h = s.host;
  const perCpu = h.loadavg[0] / h.cpus;
  const busy = h.cpuPercent ?? 0;
  const psiCpu = h.pressure?.cpu?.someAvg10;
  const psiIo = h.pressure?.io?.someAvg10;
  const out: Finding[] = [];
  const evidence = {
    loadavg: h.loadavg,
    cpus: h.cpus,
    loadPerCpu: Math.round(perCpu * 100) / 100,
    runningTasks: h.runningTasks,
    blockedTasks: h.blockedTasks,
    cpuBusyPercent: h.cpuPercent,
    cpuIowaitPercent: h.cpuIowaitPercent,
    psiCpuSomeAvg10: psiCpu,
    psiIoSomeAvg10: psiIo,
  };
  const saturatedNow = busy >= BUSY_NOW_PERCENT || (psiCpu ?? 0) >= PSI_CPU_WARN;
  const blockedNow = (h.blockedTasks ?? 0) >= h.cpus || (psiIo ?? 0) >= PSI_IO_WARN;
  if (perCpu >= LOAD_PER_CPU_WARN && (saturatedNow || blockedNow)) {
    const cause =
      blockedNow && !saturatedNow ? 'tasks blocked on I/O (D state)' : 'tasks running or waiting for a CPU';
    out.push({
      rule: 'load',
      severity: perCpu >= LOAD_PER_CPU_CRIT ? 'critical' : 'warning',
      title: `load ${h.loadavg[0].toFixed(1)} on ${h.cpus} CPUs`,
      summary:
        `The 1-minute load average is ${perCpu.toFixed(1)}× the number of CPUs, and the host is saturated now ` +
        `(${busy.toFixed(0)}% of all CPUs busy${psiCpu !== undefined ? `, tasks waited for a CPU ${psiCpu.toFixed(0)}% of the last 10 s` : ''}). ` +
        `The load comes from ${cause}: ${h.runningTasks ?? '?'} runnable, ${h.blockedTasks ?? '?'} blocked.`,
      pids: [],
      evidence,
      command: 'uptime; cat /proc/pressure/cpu /proc/pressure/io; vmstat 1 5',
      next:
        blockedNow && !saturatedNow
          ? 'find the D-state tasks (ps -eo pid,stat,wchan:32,comm | grep " D") and the device they wait on'
          : 'see the cpu-hog and busy-poll findings for who burns the CPU',
    });
  } else if (perCpu >= 1 && !saturatedNow) {
    out.push({
      rule: 'load',
      severity: 'info',
      title: `load ${h.loadavg[0].toFixed(1)} on ${h.cpus} CPUs, but the CPUs are not saturated now`,
      summary: `The load average is high (${perCpu.toFixed(1)} per CPU) but only ${busy.toFixed(0)}% of CPU was busy over the last ${Math.round(s.cpuWindowMs)} ms: the load is from the past minutes or from short bursts.`,
      pids: [],
      evidence,
      command: 'uptime; vmstat 1 5',
      next: 'run triage again, or record, to catch the burst',
    });
  }
  return out;
};
