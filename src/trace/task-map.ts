/**
 * Thread id → process id for the traced processes. strace and perf print thread ids, but the profile
 * is per process (a tgid), so threads are mapped through /proc/PID/task. A thread born during the
 * window is not in the first listing: an unknown tid triggers a re-read (at most every 100 ms), then
 * a look at /proc/TID/status, which answers for any live thread even though it is not listed.
 */
import { readDir, readText } from '../util/proc-io.js';

export class TaskMap {
  private readonly map = new Map<number, number>();
  private lastRefresh = 0;

  constructor(
    private readonly procRoot: string,
    private readonly pids: readonly number[],
  ) {
    this.refresh();
  }

  refresh(): void {
    this.lastRefresh = performance.now();
    for (const pid of this.pids) {
      this.map.set(pid, pid);
      const r = readDir(`${this.procRoot}/${pid}/task`, true);
      if (!r.ok) continue;
      for (const name of r.names) if (/^\d+$/.test(name)) this.map.set(Number(name), pid);
    }
  }

  /** Thread ids of the traced processes as last listed. */
  tids(): number[] {
    return [...this.map.keys()];
  }

  pidOf(tid: number): number | undefined {
    const known = this.map.get(tid);
    if (known !== undefined) return known;
    if (performance.now() - this.lastRefresh > 100) {
      this.refresh();
      const again = this.map.get(tid);
      if (again !== undefined) return again;
    }
    const st = readText(`${this.procRoot}/${tid}/status`, true);
    if (st.ok) {
      const m = /^Tgid:\s*(\d+)/m.exec(st.text);
      if (m) {
        const pid = Number(m[1]);
        this.map.set(tid, pid);
        return pid;
      }
    }
    return undefined;
  }
}
