/**
 * The syscall tracepoints (raw_syscalls:sys_enter/sys_exit) live in tracefs, which some systems do not
 * mount at boot. bpftrace and perf then report "tracepoint not found" or a permission error, so we
 * look first and, as root, mount it where the kernel expects it (/sys/kernel/tracing).
 */
import { existsSync } from 'node:fs';
import { run } from '../util/spawn.js';
import { isRoot } from './tracer-process.js';

export interface TracefsState {
  /** The directory holding `events/raw_syscalls`, when there is one. */
  path: string | undefined;
  /** What we did or what the user should do, for the profile's notes. */
  note?: string;
}

function hasSyscallEvents(dir: string): boolean {
  return existsSync(`${dir}/events/raw_syscalls/sys_exit`);
}

export function findTracefs(sysRoot = '/sys'): string | undefined {
  for (const dir of [`${sysRoot}/kernel/tracing`, `${sysRoot}/kernel/debug/tracing`])
    if (hasSyscallEvents(dir)) return dir;
  return undefined;
}

/** Find tracefs, mounting it when we are root on the live /sys. Never throws. */
export async function ensureTracefs(sysRoot = '/sys'): Promise<TracefsState> {
  const found = findTracefs(sysRoot);
  if (found !== undefined) return { path: found };
  const target = `${sysRoot}/kernel/tracing`;
  const advice = `tracefs is not mounted; as root run: mount -t tracefs nodev ${target}`;
  if (sysRoot !== '/sys' || !isRoot() || !existsSync(target)) return { path: undefined, note: advice };
  try {
    const r = await run(['mount', '-t', 'tracefs', 'nodev', target], { timeoutMs: 5000 });
    if (r.code === 0 && hasSyscallEvents(target))
      return { path: target, note: `mounted tracefs on ${target}` };
    return { path: undefined, note: `${advice} (mount failed: ${r.stderr.trim() || `exit ${r.code}`})` };
  } catch (err) {
    return {
      path: undefined,
      note: `${advice} (mount failed: ${err instanceof Error ? err.message : String(err)})`,
    };
  }
}
