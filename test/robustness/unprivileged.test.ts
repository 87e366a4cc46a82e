/**
 * Issue 2 §6: run as an unprivileged user (nobody, uid 65534) on the live /proc, every command completes
 * and says what it could not see. `fds PID` and `pmap PID` of a root process are the exception: the
 * whole answer is the one thing denied, so they exit 2 with a message naming the file and why — an
 * empty table with exit 0 would look like "this process has no fds".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliJson, runCli, runCmd } from '../helpers/cli.js';
import { procTree, readCapture, removeProcTrees } from '../helpers/proc-tree.js';
import { startScenario, stopAllScenarios, type RunningScenario } from '../helpers/scenarios.js';
import type { Snapshot } from '../../src/collect/types.js';
import type { SocketsReport } from '../../src/collect/sockets.js';
import type { FdsReport } from '../../src/collect/fds.js';
import type { PmapReport } from '../../src/collect/pmap-report.js';

const NOBODY = 65534;
// cwd and HOME where nobody may be: a root-only cwd would fail before our code runs
const AS_NOBODY = {
  uid: NOBODY,
  gid: NOBODY,
  cwd: '/',
  env: { ...process.env, HOME: '/nonexistent', PROCSLEUTH_PROC_ROOT: '', PROCSLEUTH_SYS_ROOT: '' },
};
const asNobody = (args: string[]): ReturnType<typeof runCli> => runCli(args, AS_NOBODY);
const isRoot = process.getuid?.() === 0;

let server: RunningScenario<'close-wait-server'>;
let mine: ChildProcess | undefined;
const clients: ChildProcess[] = [];

beforeAll(async () => {
  // only root can start processes as nobody; the suites below are skipped otherwise
  if (!isRoot) return;
  // a root-owned server with sockets in CLOSE_WAIT: nobody sees the sockets but not their owner
  server = await startScenario('close-wait-server');
  const connect = spawn(
    process.execPath,
    [
      '-e',
      `const net=require('net');let n=0;for(let i=0;i<3;i++){const s=net.connect(${server.info.port},'127.0.0.1',()=>{s.end();if(++n===3)console.log('DONE')});}setTimeout(()=>{},600000)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  clients.push(connect);
  await server.waitForLine(/^ACCEPTED 3$/);
  // a process of nobody's own, whose fds and maps nobody may read
  mine = spawn('sleep', ['600'], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: 'ignore' });
  await waitFor(() => countCloseWait(server.info.port) === 3);
});

afterAll(async () => {
  mine?.kill('SIGKILL');
  for (const c of clients) c.kill('SIGKILL');
  await stopAllScenarios();
  removeProcTrees();
});

describe.runIf(isRoot)('run as nobody on the live /proc', () => {
  it('nobody can reach node, bin/, dist/ and the native addon (so a failure below is ours)', async () => {
    // every directory from / down to the files must be searchable by others, every file readable
    const repo = resolve(dirname(BIN), '..');
    for (const p of [process.execPath, BIN, join(repo, 'dist/cli/main.js'), join(repo, 'package.json')]) {
      for (let d = dirname(p); d !== '/'; d = dirname(d))
        expect(statSync(d).mode & 0o001, `${d} searchable by others`).toBe(0o001);
      expect(statSync(p).mode & 0o004, `${p} readable by others`).toBe(0o004);
    }
    for (const f of readdirSync(join(repo, 'dist'), { recursive: true, encoding: 'utf8' }))
      expect(statSync(join(repo, 'dist', f)).mode & 0o004, `dist/${f}`).toBe(0o004);
    const r = await asNobody(['--version']);
    expect(r.code, r.stderr).toBe(0);
    const who = await runCmd(['id', '-u'], AS_NOBODY);
    expect(who.stdout.trim()).toBe(String(NOBODY));
  });

  it('snapshot --json completes and lists the processes it could only partly read', async () => {
    const r = await asNobody(['snapshot', '--json', '--cpu-window', '100ms']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    expect(s.processes.length).toBeGreaterThan(10);
    expect(s.problems.denied.length).toBeGreaterThan(0);
    const init = s.processes.find((p) => p.pid === 1);
    // pid 1 is root's: its exe, maps, smaps_rollup and fds are denied; stat and status are not
    expect(init?.unreadable).toEqual(expect.arrayContaining(['exe', 'fd']));
    expect(init?.exe).toBeUndefined();
    expect(init?.fdCount).toBeUndefined();
    expect(init?.pssBytes).toBeUndefined();
    expect(init?.rssBytes).toBeGreaterThan(0);
    expect(init?.state).toMatch(/^[A-Z]$/);
    expect(s.problems.denied.map((d) => d.pid)).toContain(1);
    // its own processes it sees whole
    const own = s.processes.find((p) => p.pid === mine?.pid);
    expect(own?.unreadable).toEqual([]);
    expect(own?.fdCount).toBeGreaterThanOrEqual(3);
    expect(own?.pssBytes).toBeGreaterThan(0);
    expect(own?.user).toBe('nobody');
    // host files are world-readable: nothing about the host is missing
    expect(s.host.memTotalBytes).toBeGreaterThan(0);
    expect(s.tcp.states.CLOSE_WAIT).toBeGreaterThanOrEqual(3);
    // the server's sockets are counted, but nobody cannot say it owns them
    const srv = s.processes.find((p) => p.pid === server.pid);
    expect(srv?.sockets).toBeUndefined();
    expect(srv?.unreadable).toContain('fd');
  });

  it('snapshot and ps in human form say what they could not see', async () => {
    const snap = await asNobody(['snapshot', '--cpu-window', '100ms']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stdout).toMatch(/partly unreadable \(permission denied\)/);
    const ps = await asNobody(['ps', '--all']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stderr).toMatch(/partly unreadable \(permission denied; run as root to see all\)/);
    expect(ps.stdout).toMatch(/^\s*1\s+root\s/m);
    const group = await asNobody(['ps', '--group', '--sort', 'rss']);
    expect(group.code, group.stderr).toBe(0);
  });

  it('ps --json carries the same problems', async () => {
    const ps = await cliJson<{ processes: unknown[]; problems: Snapshot['problems'] }>(
      ['ps', '--all', '--sort', 'pss'],
      AS_NOBODY,
    );
    expect(ps.problems.denied.length).toBeGreaterThan(0);
    expect(ps.processes.length).toBeGreaterThan(10);
  });

  it('sockets completes: states and remotes are all there (the tables are world-readable)', async () => {
    const r = await cliJson<SocketsReport>(
      ['sockets', '--state', 'close-wait', '--include-local'],
      AS_NOBODY,
    );
    expect(r.states.CLOSE_WAIT).toBeGreaterThanOrEqual(3);
    expect(r.top.CLOSE_WAIT).toContainEqual({ address: '127.0.0.1', count: expect.any(Number) as number });
    // root's fds are hidden: the owner is not found
    expect(r.owners?.CLOSE_WAIT?.find((o) => o.pid === server.pid)).toBeUndefined();
    const human = await asNobody(['sockets']);
    expect(human.code, human.stderr).toBe(0);
  });

  it('sockets says that owners went unseen for lack of permission, not that the kernel owns them', async () => {
    // As nobody, the CLOSE_WAIT sockets of a root server are reported as "no owning process:
    // TIME_WAIT and orphans belong to the kernel" (src/report/text-sockets.ts); the SocketsReport
    // has no field saying the fd walk was denied for N processes.
    const human = await asNobody(['sockets', '--state', 'close-wait']);
    expect(human.stdout + human.stderr).toMatch(/permission denied|run as root/);
  });

  it('fds and pmap of a root process exit 2 and say why; of its own process they work', async () => {
    const fds = await asNobody(['fds', '1']);
    expect(fds.code).toBe(2);
    expect(fds.stdout).toBe('');
    expect(fds.stderr).toMatch(
      /cannot list \/proc\/1\/fd: permission denied \(run as root or as the process's user\)/,
    );
    const pmap = await asNobody(['pmap', '1']);
    expect(pmap.code).toBe(2);
    expect(pmap.stderr).toMatch(/cannot read \/proc\/1\/maps: permission denied/);
    for (const r of [fds, pmap]) expect(r.stderr).not.toMatch(/internal error|\n\s+at /);

    const myFds = await cliJson<FdsReport>(['fds', String(mine?.pid)], AS_NOBODY);
    expect(myFds.fds.map((f) => f.fd)).toEqual(expect.arrayContaining([0, 1, 2]));
    const myMap = await cliJson<PmapReport>(['pmap', String(mine?.pid)], AS_NOBODY);
    expect(myMap.totals.rssBytes).toBeGreaterThan(0);
    expect(myMap.mappings.some((m) => m.kind === 'stack')).toBe(true);
  });

  it('the same for any root process, not only pid 1; --no-peers changes nothing', async () => {
    for (const args of [
      ['fds', String(server.pid), '--no-peers'],
      ['pmap', String(server.pid)],
    ]) {
      const r = await asNobody(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`/proc/${server.pid}/`);
      expect(r.stderr).toMatch(/permission denied/);
    }
  });
});

describe.runIf(isRoot)('run as nobody on a captured tree with files made unreadable', () => {
  it('a process file made unreadable is a partial read, noted; the process stays', async () => {
    const cw = (readCapture('busy-cluster').scene as { 'close-wait-server': { pid: number } })[
      'close-wait-server'
    ].pid;
    const t = procTree({
      from: 'busy-cluster',
      chmod: { [`${cw}/smaps_rollup`]: 0, [`${cw}/limits`]: 0, [`${cw}/fd`]: 0o700 },
    });
    // nobody must be able to reach the tree at all (procTree opens it up)
    accessSync(t.root, constants.R_OK | constants.X_OK);
    const r = await asNobody(['snapshot', '--json', '--cpu-window', '0', '--proc-root', t.root]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Snapshot;
    const p = s.processes.find((x) => x.pid === cw);
    expect(p?.unreadable).toEqual(expect.arrayContaining(['smaps_rollup', 'limits', 'fd']));
    expect(p?.pssBytes).toBeUndefined();
    expect(p?.fdLimit).toBeUndefined();
    expect(p?.fdCount).toBeUndefined();
    expect(p?.rssBytes).toBeGreaterThan(0);
    expect(s.problems.denied).toContainEqual({
      pid: cw,
      comm: 'close-wait-serv',
      sources: expect.arrayContaining(['smaps_rollup', 'limits', 'fd']) as string[],
    });
    const human = await asNobody(['snapshot', '--cpu-window', '0', '--proc-root', t.root]);
    expect(human.stdout).toMatch(/\d+ process\(es\) partly unreadable/);
  });

  it('an optional host file made unreadable is noted as denied; a required one is an error naming it', async () => {
    const t = procTree({ from: 'busy-cluster', chmod: { 'sys/net/ipv4/tcp_max_orphans': 0, meminfo: 0 } });
    const r = await asNobody(['snapshot', '--proc-root', t.root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read ${t.path('meminfo')}: permission denied`);
    const u = procTree({ from: 'busy-cluster', chmod: { 'sys/net/ipv4/tcp_max_orphans': 0 } });
    const s = await cliJson<Snapshot>(['snapshot', '--cpu-window', '0', '--proc-root', u.root], AS_NOBODY);
    expect(s.limits.tcpMaxOrphans).toBeUndefined();
    expect(s.problems.hostSources).toContainEqual({
      source: 'sys/net/ipv4/tcp_max_orphans',
      reason: 'denied',
    });
  });
});

function countCloseWait(port: number): number {
  // the server side of each connection: local port = the server's, state 08 (CLOSE_WAIT) in /proc/net/tcp
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
        const c = line.trim().split(/\s+/);
        if (c[1]?.endsWith(`:${hex}`) && c[3] === '08') n++;
      }
    } catch {
      // no IPv6
    }
  }
  return n;
}

async function waitFor(f: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
