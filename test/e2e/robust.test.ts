/**
 * Issue 2, "Robust": processes vanish mid-read, permissions are denied, captured trees are broken.
 * None of that is an error of ours: commands complete and say what they could not see; a malformed
 * host file is an error naming the file, the line and the token; a malformed process file skips it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { Snapshot } from '../../src/collect/types.js';

describe('a fork storm of short-lived processes', () => {
  const storms: ChildProcess[] = [];
  beforeAll(() => {
    for (let i = 0; i < 2; i++)
      storms.push(spawn('sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' }));
  });
  afterAll(() => {
    for (const s of storms) s.kill('SIGKILL');
  });

  it('never makes a command fail, and the snapshot counts the vanished', async () => {
    let vanished = 0;
    for (let i = 0; i < 4; i++) {
      const r = await runCli(['snapshot', '--json', '--cpu-window', '0']);
      expect(r.code, r.stderr).toBe(0);
      vanished += (JSON.parse(r.stdout) as Snapshot).problems.vanished;
    }
    expect(vanished).toBeGreaterThan(0);
    for (const args of [['ps', '--all'], ['sockets'], ['triage', '--no-trace', '--cpu-window', '100ms']]) {
      const r = await runCli(args);
      expect(r.code === 0 || (args[0] === 'triage' && r.code === 1), `${args.join(' ')}: ${r.stderr}`).toBe(
        true,
      );
    }
  });
});

describe('run as an unprivileged user', () => {
  const nobody = { uid: 65534, gid: 65534 };

  it('snapshot completes and lists what it could not read', async () => {
    const r = await runCli(['snapshot', '--json', '--cpu-window', '0'], nobody);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    expect(s.processes.length).toBeGreaterThan(10);
    expect(s.problems.denied.length).toBeGreaterThan(0);
    const init = s.processes.find((p) => p.pid === 1);
    expect(init?.unreadable).toEqual(expect.arrayContaining(['exe']));
    expect(init?.fdCount).toBeUndefined();
    const human = await runCli(['snapshot', '--cpu-window', '0'], nobody);
    expect(human.stdout).toMatch(/partly unreadable \(permission denied\)/);
  });

  it('ps, sockets and triage complete', async () => {
    for (const args of [['ps'], ['sockets'], ['triage', '--no-trace', '--cpu-window', '100ms']]) {
      const r = await runCli(args, nobody);
      expect([0, 1], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
    }
  });

  it('fds and pmap of a root process say why they cannot', async () => {
    const fds = await runCli(['fds', '1'], nobody);
    expect(fds.code).toBe(2);
    expect(fds.stderr).toMatch(/permission denied/);
    const pmap = await runCli(['pmap', '1'], nobody);
    expect(pmap.code).toBe(2);
    expect(pmap.stderr).toMatch(/permission denied/);
  });
});

describe('a /proc tree captured from this machine, then broken', () => {
  let root: string;
  const HOST_FILES = [
    'loadavg',
    'uptime',
    'stat',
    'meminfo',
    'vmstat',
    'net/tcp',
    'net/tcp6',
    'net/udp',
    'net/udp6',
    'net/unix',
    'net/sockstat',
    'net/sockstat6',
    'net/fib_trie',
    'net/if_inet6',
    'sys/kernel/hostname',
    'sys/kernel/osrelease',
    'sys/kernel/random/boot_id',
    'sys/fs/file-nr',
    'sys/fs/file-max',
    'sys/fs/nr_open',
    'sys/net/ipv4/tcp_mem',
    'sys/net/ipv4/tcp_max_orphans',
    'sys/net/ipv4/tcp_fin_timeout',
    'sys/net/ipv4/ip_local_port_range',
    'sys/net/core/somaxconn',
    'pressure/cpu',
    'pressure/memory',
    'pressure/io',
  ];
  const PID_FILES = ['stat', 'status', 'cmdline', 'comm', 'limits', 'maps', 'smaps_rollup'];
  const pids = [process.ppid, process.pid];

  function capture(dir: string): void {
    for (const f of HOST_FILES) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), readFileSync(`/proc/${f}`));
    }
    for (const pid of pids) {
      mkdirSync(join(dir, String(pid), 'fd'), { recursive: true });
      for (const f of PID_FILES) writeFileSync(join(dir, String(pid), f), readFileSync(`/proc/${pid}/${f}`));
      symlinkSync(readlinkSync(`/proc/${pid}/exe`), join(dir, String(pid), 'exe'));
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          symlinkSync(readlinkSync(`/proc/${pid}/fd/${fd}`), join(dir, String(pid), 'fd', fd));
        } catch {
          // closed meanwhile
        }
      }
    }
  }

  function variant(edit: (dir: string) => void): string {
    const d = mkdtempSync(join(tmpdir(), 'procsleuth-tree-'));
    cpSync(root, d, { recursive: true, verbatimSymlinks: true });
    edit(d);
    return d;
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'procsleuth-tree-'));
    capture(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads as if live, through --proc-root and PROCSLEUTH_PROC_ROOT', async () => {
    const a = await runCli(['snapshot', '--json', '--proc-root', root, '--cpu-window', '0']);
    expect(a.code, a.stderr).toBe(0);
    const s = JSON.parse(a.stdout) as Snapshot;
    expect(s.processes.map((p) => p.pid).sort((x, y) => x - y)).toEqual([...pids].sort((x, y) => x - y));
    expect(s.processes.find((p) => p.pid === process.pid)?.fdCount).toBeGreaterThan(2);
    const b = await runCli(['ps', '--json'], { env: { ...process.env, PROCSLEUTH_PROC_ROOT: root } });
    expect(b.code, b.stderr).toBe(0);
    expect((JSON.parse(b.stdout) as { processes: unknown[] }).processes).toHaveLength(2);
  });

  it('names the file, the line and the token of a malformed host file, and exits 2', async () => {
    const d = variant((dir) => {
      const m = readFileSync(join(dir, 'meminfo'), 'utf8').split('\n');
      m[2] = 'MemAvailable:   12x45 kB';
      writeFileSync(join(dir, 'meminfo'), m.join('\n'));
    });
    const r = await runCli(['snapshot', '--proc-root', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${d}/meminfo`);
    expect(r.stderr).toMatch(/line 3/);
    expect(r.stderr).toMatch(/12x45/);
    rmSync(d, { recursive: true, force: true });
  });

  it('skips one process with a malformed stat, with a note, and keeps the rest', async () => {
    const d = variant((dir) =>
      writeFileSync(join(dir, String(process.pid), 'stat'), `${process.pid} (node) S 1 2 3\n`),
    );
    const r = await runCli(['snapshot', '--json', '--proc-root', d, '--cpu-window', '0']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    expect(s.processes.map((p) => p.pid)).toEqual([process.ppid]);
    expect(s.problems.skipped).toEqual([
      { pid: process.pid, reason: expect.stringContaining(`${d}/${process.pid}/stat`) },
    ]);
    rmSync(d, { recursive: true, force: true });
  });

  it('works without the optional files (pressure, tcp6, sockstat6) and says so', async () => {
    const d = variant((dir) => {
      for (const f of [
        'pressure',
        'net/tcp6',
        'net/udp6',
        'net/sockstat6',
        'net/if_inet6',
        'sys/net/ipv4/tcp_max_orphans',
      ])
        rmSync(join(dir, f), { recursive: true });
    });
    const r = await runCli(['snapshot', '--json', '--proc-root', d, '--cpu-window', '0']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    expect(s.host.pressure).toBeUndefined();
    expect(s.limits.tcpMaxOrphans).toBeUndefined();
    expect(s.problems.hostSources).toContainEqual({
      source: 'sys/net/ipv4/tcp_max_orphans',
      reason: 'absent',
    });
    rmSync(d, { recursive: true, force: true });
  });

  it('says clearly when the root is not a /proc at all', async () => {
    const r = await runCli(['snapshot', '--proc-root', '/nonexistent-procsleuth']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nonexistent-procsleuth/);
  });
});
