/**
 * Issue 2 §2 and §6: a /proc tree captured from this machine (test/fixtures/proc/busy-cluster, made by
 * scripts/capture-proc.ts) reads as if live through --proc-root and PROCSLEUTH_PROC_ROOT, and gives the
 * numbers ps, ss, pmap and `ls /proc/PID/fd` gave at capture time (busy-cluster.json beside the tree).
 * Broken copies of it, made by procTree(), check the failure modes: a malformed host file is an error
 * naming the file, the line and the token (exit 2); a malformed process file skips that process with a
 * note (exit 0); optional files may be missing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, runCli } from '../helpers/cli.js';
import { validate } from '../helpers/schema.js';
import {
  fixturePath,
  procTree,
  readCapture,
  removeProcTrees,
  replaceLine,
  replaceMatching,
} from '../helpers/proc-tree.js';
import type { Snapshot } from '../../src/collect/types.js';
import type { SocketsReport } from '../../src/collect/sockets.js';
import type { PmapReport } from '../../src/collect/pmap-report.js';
import type { FdsReport } from '../../src/collect/fds.js';

const TREE = fixturePath('busy-cluster');
const cap = readCapture('busy-cluster');
const scene = cap.scene as {
  'busy-read': { pid: number; pids: number[]; fd: number; path: string };
  'close-wait-server': { pid: number; port: number; closeWait: number; established: number };
  'shm-map': { pid: number; pids: number[]; mib: number; sysvMib: number };
  zombie: { parent: number; pid: number };
};
const BUSY = scene['busy-read'];
const CW = scene['close-wait-server'];
const SHM = scene['shm-map'];
const WORKER = BUSY.pids[1] as number;
const KIB = 1024;

/** Files readProcess needs: a capture that could not copy one of them leaves an incomplete process. */
const NEEDED = ['stat', 'status', 'cmdline', 'smaps_rollup', 'maps', 'limits'];
const incomplete = new Set(
  cap.omitted
    .map((o) => /^(\d+)\/([^/]+)$/.exec(o.path))
    .filter((m): m is RegExpExecArray => m !== null && NEEDED.includes(m[2] as string))
    .map((m) => Number(m[1])),
);
const complete = cap.pids.filter((p) => !incomplete.has(p));

const snapshot = (root = TREE, extra: string[] = []): Promise<Snapshot> =>
  cliJson<Snapshot>(['snapshot', '--proc-root', root, '--cpu-window', '0', ...extra]);

afterAll(removeProcTrees);

describe('the busy-cluster tree, read as if live', () => {
  it('was captured as the README says: the scene, pid 1 and kernel threads, small', () => {
    expect(cap.sanitised).toBe(true);
    expect(cap.vanished).toEqual([]);
    expect(cap.unstable).toEqual([]);
    expect(BUSY.pids).toHaveLength(4);
    expect(cap.pids).toEqual(expect.arrayContaining([1, 2, BUSY.pid, ...BUSY.pids, CW.pid, SHM.pid]));
    // the scene itself must be whole: only pid 1 (ptrace-protected) and the zombie lack files
    expect([...incomplete].sort((a, b) => a - b)).toEqual([1, scene.zombie.pid]);
  });

  it('lists every process ps saw, with its state, threads, parent, uid, RSS, VSZ and fd count', async () => {
    const s = await snapshot();
    expect(validate('snapshot', s)).toEqual([]);
    expect(s.problems.skipped).toEqual([]);
    // Only what was missing from the capture (pid 1 is ptrace-protected, a zombie has no smaps_rollup)
    // is unreadable; both processes are listed, not counted as vanished.
    expect(s.problems.denied.map((d) => d.pid).sort((a, b) => a - b)).toEqual([1, scene.zombie.pid]);
    const byPid = new Map(s.processes.map((p) => [p.pid, p]));
    expect(s.processes.map((p) => p.pid)).toEqual(expect.arrayContaining(complete));
    for (const pid of complete) {
      const t = cap.tools.processes[pid];
      const p = byPid.get(pid);
      expect(t, `ps saw ${pid}`).toBeDefined();
      if (!t || !p) continue;
      const got = {
        comm: p.comm.slice(0, 15),
        state: p.state,
        threads: p.threads,
        ppid: p.ppid,
        uid: p.uid,
        kernelThread: p.kernelThread,
        // ps prints 0 KiB for a kernel thread; procsleuth says unknown
        rssKiB: p.rssBytes === undefined ? 0 : p.rssBytes / KIB,
        vszKiB: p.vszBytes / KIB,
        fdCount: p.fdCount,
      };
      const want = {
        comm: t.comm,
        state: t.state,
        threads: t.threads,
        ppid: t.ppid,
        uid: t.kernelThread ? p.uid : t.uid,
        kernelThread: t.kernelThread,
        rssKiB: t.rssKiB,
        vszKiB: t.vszKiB,
        fdCount: t.fdCount,
      };
      expect(got, `pid ${pid}`).toEqual(want);
      // pmap -d of the same process, computed from the captured maps
      if (t.pmap) {
        expect(p.mappedBytes, `pid ${pid} mapped`).toBe(t.pmap.mappedKiB * KIB);
        expect(p.writeablePrivateBytes, `pid ${pid} writeable/private`).toBe(
          t.pmap.writeablePrivateKiB * KIB,
        );
      }
    }
    // the spinning workers were caught running, the rest asleep
    for (const w of BUSY.pids) expect(byPid.get(w)?.state).toBe('R');
    expect(byPid.get(2)?.kernelThread).toBe(true);
    expect(byPid.get(2)?.rssBytes).toBeUndefined();
  });

  it('lists pid 1 (maps denied at capture) and the zombie (no smaps_rollup) instead of calling them vanished', async () => {
    // A per-process file missing while stat is there is not a process that exited: a zombie's
    // smaps_rollup answers ESRCH on the live host too, so zombies are never listed (src/collect/processes.ts).
    const s = await snapshot();
    expect(s.problems.vanished).toBe(0);
    expect(s.processes.map((p) => p.pid)).toEqual(cap.pids);
    expect(s.processes.find((p) => p.pid === scene.zombie.pid)?.state).toBe('Z');
  });

  it('counts TCP states as ss -tan did, and gives each socket the owner ss -tanp named', async () => {
    const s = await snapshot();
    for (const [state, n] of Object.entries(cap.tools.tcpStates))
      expect(s.tcp.states[state as keyof typeof s.tcp.states], state).toBe(n);
    for (const pid of complete) {
      const want = cap.tools.processes[pid]?.tcp ?? {};
      const p = s.processes.find((x) => x.pid === pid);
      if (p?.kernelThread) continue;
      expect(p?.sockets?.tcp ?? {}, `tcp sockets of ${pid}`).toEqual(want);
    }
    const server = s.processes.find((p) => p.pid === CW.pid);
    expect(server?.sockets?.tcp).toEqual({
      LISTEN: 1,
      CLOSE_WAIT: CW.closeWait,
      ESTABLISHED: CW.established,
    });
    // the busy-read workers hold fd 11, a unix stream socket
    expect(s.processes.find((p) => p.pid === WORKER)?.sockets?.unix).toBeGreaterThanOrEqual(1);
  });

  it('reads the host: sanitised hostname, kernel, CPUs, memory, limits', async () => {
    const s = await snapshot();
    expect(s.host.hostname).toBe('capture-host');
    expect(s.host.kernel).toBe(cap.tools.host.kernel);
    expect(s.host.cpus).toBe(cap.tools.host.cpus);
    expect(s.host.memTotalBytes).toBe(cap.tools.host.memTotalBytes);
    expect(s.host.memAvailableBytes).toBeGreaterThan(0);
    expect(s.host.pressure?.cpu).toBeDefined();
    expect(s.limits.fileMax).toBeDefined();
    expect(s.sockstat.tcp?.inuse).toBeGreaterThan(0);
    // nothing in the tree names the real host or a home directory
    expect(JSON.stringify(s)).not.toMatch(/\/home\/(?!user\b)/);
  });

  it('ps lists and groups: four busy-read workers and their parent are one row', async () => {
    const r = await cliJson<{ processes: { pid: number }[] }>(['ps', '--all', '--proc-root', TREE]);
    expect(r.processes.map((p) => p.pid)).toEqual(expect.arrayContaining([BUSY.pid, ...BUSY.pids]));
    const g = await cliJson<{ groups: { pids: number[]; count: number; label: string }[] }>([
      'ps',
      '--group',
      '--all',
      '--proc-root',
      TREE,
    ]);
    const busy = g.groups.find((x) => x.pids.includes(WORKER));
    expect(busy?.count).toBe(5);
    expect([...(busy?.pids ?? [])].sort((a, b) => a - b)).toEqual([BUSY.pid, ...BUSY.pids]);
    const human = await runCli(['ps', '--sort', 'rss', '--proc-root', TREE]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/shm-map/);
    expect(human.stdout).toMatch(/close-wait-server/);
  });

  it('sockets: the CLOSE_WAIT sockets are local (127.0.0.1) and owned by the server', async () => {
    const r = await cliJson<SocketsReport>(['sockets', '--proc-root', TREE]);
    expect(validate('sockets', r)).toEqual([]);
    expect(r.states.CLOSE_WAIT).toBe(cap.tools.tcpStates['CLOSE_WAIT']);
    expect(r.localRemotes.CLOSE_WAIT).toBe(CW.closeWait);
    expect(r.top.CLOSE_WAIT).toEqual([]);
    expect(r.owners?.CLOSE_WAIT).toEqual([{ pid: CW.pid, comm: 'close-wait-serv', count: CW.closeWait }]);
    const all = await cliJson<SocketsReport>(['sockets', '--include-local', '--proc-root', TREE]);
    expect(all.top.CLOSE_WAIT).toEqual([{ address: '127.0.0.1', count: CW.closeWait }]);
  });

  it('pmap of the shm-map process gives the pmap -d and pmap -x totals and the shared mapping', async () => {
    const r = await cliJson<PmapReport>(['pmap', String(SHM.pid), '--proc-root', TREE]);
    expect(validate('pmap', r)).toEqual([]);
    const t = cap.tools.processes[SHM.pid]?.pmap;
    expect(t).toBeDefined();
    expect(r.totals.mappedBytes).toBe((t?.mappedKiB ?? -1) * KIB);
    expect(r.totals.writeablePrivateBytes).toBe((t?.writeablePrivateKiB ?? -1) * KIB);
    expect(r.totals.sharedBytes).toBe((t?.sharedKiB ?? -1) * KIB);
    expect(r.totals.rssBytes).toBe((t?.rssKiB ?? -1) * KIB);
    expect(r.byKind['shared-anon']?.sizeBytes).toBe(SHM.mib * 1024 * KIB);
    expect(r.byKind['sysv-shm']?.sizeBytes).toBe(SHM.sysvMib * 1024 * KIB);
  });

  it('fds of a busy-read worker: fd 11 is a unix stream socket; without a live host, no peer', async () => {
    const r = await cliJson<FdsReport>(['fds', String(WORKER), '--proc-root', TREE]);
    expect(validate('fds', r)).toEqual([]);
    expect(r.fds.length).toBe(cap.tools.processes[WORKER]?.fdCount);
    const fd = r.fds.find((f) => f.fd === BUSY.fd);
    expect(fd?.kind).toBe('socket');
    expect(fd?.socket?.protocol).toBe('unix');
    expect(fd?.flags).toContain('O_NONBLOCK');
    expect(r.notes.join(' ')).toMatch(/only known on a live host/);
  });

  it('PROCSLEUTH_PROC_ROOT does what --proc-root does', async () => {
    const env = { ...process.env, PROCSLEUTH_PROC_ROOT: TREE };
    const s = await cliJson<Snapshot>(['snapshot', '--cpu-window', '0'], { env });
    expect(s.host.hostname).toBe('capture-host');
    expect(s.processes.map((p) => p.pid)).toEqual(expect.arrayContaining(complete));
    const fds = await cliJson<FdsReport>(['fds', String(CW.pid)], { env });
    expect(fds.fds.filter((f) => f.socket?.state === 'CLOSE_WAIT')).toHaveLength(CW.closeWait);
    // the flag wins over the environment
    const other = procTree({ from: 'busy-cluster', write: { 'sys/kernel/hostname': 'flag-wins\n' } });
    const t = await cliJson<Snapshot>(['snapshot', '--cpu-window', '0', '--proc-root', other.root], { env });
    expect(t.host.hostname).toBe('flag-wins');
  });
});

describe('a malformed host file: exit 2, naming the file, the line and the token', () => {
  const cases: { name: string; file: string; edit: (s: string) => string; line: number; token: string }[] = [
    {
      name: 'a garbled /proc/meminfo line',
      file: 'meminfo',
      edit: (s) => replaceMatching(s, /^MemAvailable:/, () => 'MemAvailable:   12x45 kB'),
      line: 3,
      token: '12x45',
    },
    { name: 'a truncated loadavg', file: 'loadavg', edit: (s) => s.slice(0, 9), line: 1, token: '' },
    {
      name: 'a letter in the cpu line of /proc/stat',
      file: 'stat',
      edit: (s) => replaceLine(s, 1, (l) => l.replace(/^cpu\s+\d+/, 'cpu  12q4')),
      line: 1,
      token: '12q4',
    },
    { name: 'garbage in uptime', file: 'uptime', edit: () => 'up-a-while\n', line: 1, token: 'up-a-while' },
    {
      name: 'a cut-off row of /proc/net/tcp',
      file: 'net/tcp',
      edit: (s) => replaceLine(s, 2, (l) => l.slice(0, 30)),
      line: 2,
      token: '',
    },
    {
      name: 'a non-number in /proc/net/sockstat',
      file: 'net/sockstat',
      edit: (s) => replaceMatching(s, /^TCP:/, (l) => l.replace(/inuse \d+/, 'inuse lots')),
      line: 2,
      token: 'lots',
    },
    {
      name: 'a bad file-nr',
      file: 'sys/fs/file-nr',
      edit: () => '1833\t0\n',
      line: 1,
      token: '1833',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const t = procTree({ from: 'busy-cluster', write: { [c.file]: c.edit } });
      // a truncated file's token is what is left of it
      const token = c.token || t.read(c.file).split('\n')[c.line - 1]?.trim().slice(0, 20) || '""';
      // ps reads the host through the same code as snapshot (checked once); sockets reads net/tcp only
      const commands = [
        ['snapshot', '--cpu-window', '0'],
        ...(c.file === 'meminfo' ? [['ps']] : []),
        ...(c.file === 'net/tcp' ? [['sockets']] : []),
      ];
      for (const args of commands) {
        const r = await runCli([...args, '--proc-root', t.root]);
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain(t.path(c.file));
        expect(r.stderr).toMatch(new RegExp(`line ${c.line}\\b`));
        expect(r.stderr).toContain(token);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      }
    });
  }

  it('a missing required file (loadavg) names it', async () => {
    const t = procTree({ from: 'busy-cluster', remove: ['loadavg'] });
    const r = await runCli(['snapshot', '--proc-root', t.root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`cannot read ${t.path('loadavg')}: no such file`));
  });

  it('a root that is not a /proc at all', async () => {
    const r = await runCli(['snapshot', '--proc-root', '/nonexistent/procsleuth']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/procsleuth/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('a malformed file of one process: that process is skipped with a note, the rest intact', () => {
  const pid = WORKER;
  const cases: Record<string, (s: string) => string> = {
    stat: () => `${pid} (busy-read) R 1 2 3\n`,
    status: (s) => replaceMatching(s, /^VmRSS:/, () => 'VmRSS:\t lots kB'),
    limits: (s) =>
      replaceMatching(
        s,
        /^Max open files/,
        () => 'Max open files            x                    y                    files',
      ),
    smaps_rollup: (s) => replaceMatching(s, /^Rss:/, () => 'Rss:                ?? kB'),
    maps: (s) => `zzzz\n${s}`,
  };
  for (const [file, edit] of Object.entries(cases)) {
    it(`a garbled ${file}`, async () => {
      const t = procTree({ from: 'busy-cluster', write: { [`${pid}/${file}`]: edit } });
      const r = await runCli(['snapshot', '--json', '--cpu-window', '0', '--proc-root', t.root]);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as Snapshot;
      expect(s.problems.skipped).toEqual([
        { pid, reason: expect.stringContaining(t.path(`${pid}/${file}`)) },
      ]);
      expect(s.problems.skipped[0]?.reason).toMatch(/line \d+/);
      const pids = s.processes.map((p) => p.pid);
      expect(pids).not.toContain(pid);
      expect(pids).toEqual(expect.arrayContaining(complete.filter((p) => p !== pid)));
      // the others keep their numbers
      expect(s.processes.find((p) => p.pid === CW.pid)?.fdCount).toBe(cap.tools.processes[CW.pid]?.fdCount);
      expect(s.tcp.states.CLOSE_WAIT).toBe(CW.closeWait);

      const human = await runCli(['snapshot', '--cpu-window', '0', '--proc-root', t.root]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/skipped|malformed/);
      // ps reads smaps_rollup only to sort by PSS
      const ps = await runCli([
        'ps',
        ...(file === 'smaps_rollup' ? ['--sort', 'pss'] : []),
        '--proc-root',
        t.root,
      ]);
      expect(ps.code, ps.stderr).toBe(0);
      expect(ps.stdout + ps.stderr).toMatch(/1 process\(es\) skipped: malformed/);
    });
  }

  it('pmap and fds of that very process say which file is wrong (exit 2)', async () => {
    const t = procTree({
      from: 'busy-cluster',
      write: { [`${pid}/smaps`]: (s) => `zzzz\n${s}`, [`${pid}/fdinfo/${BUSY.fd}`]: 'pos:\tx\n' },
    });
    const pmap = await runCli(['pmap', String(pid), '--proc-root', t.root]);
    expect(pmap.code).toBe(2);
    expect(pmap.stderr).toContain(`${t.path(`${pid}/smaps`)}:line 1`);
    expect(pmap.stderr).toContain('zzzz');
    const fds = await runCli(['fds', String(pid), '--proc-root', t.root]);
    expect(fds.code).toBe(2);
    expect(fds.stderr).toContain(t.path(`${pid}/fdinfo/${BUSY.fd}`));
    // and another process is not affected
    const other = await runCli(['fds', String(CW.pid), '--proc-root', t.root]);
    expect(other.code, other.stderr).toBe(0);
  });

  it('ps notes a skipped process even when no other process vanished or was denied', async () => {
    // src/cli/ps.ts prints its note only when denied or vanished is non-empty: a skip alone is silent.
    const t = procTree({
      from: 'busy-cluster',
      remove: ['1', String(scene.zombie.pid)],
      write: { [`${pid}/stat`]: `${pid} (busy-read) R 1 2 3\n` },
    });
    const ps = await runCli(['ps', '--proc-root', t.root]);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout + ps.stderr).toMatch(/1 process\(es\) skipped: malformed/);
  });

  it('a process whose smaps_rollup could not be copied into a capture is listed, not counted vanished', async () => {
    const t = procTree({ from: 'busy-cluster', remove: [`${pid}/smaps_rollup`] });
    const s = await snapshot(t.root);
    expect(s.processes.find((p) => p.pid === pid)?.pssBytes).toBeUndefined();
    expect(s.processes.map((p) => p.pid)).toContain(pid);
  });
});

describe('optional files may be missing', () => {
  const OPTIONAL = [
    'pressure',
    'net/sockstat6',
    'net/tcp6',
    'net/udp6',
    'net/if_inet6',
    'vmstat',
    'sys/net/ipv4/tcp_max_orphans',
  ];

  it('every command still works, and the snapshot leaves those fields unknown', async () => {
    const t = procTree({ from: 'busy-cluster', remove: OPTIONAL });
    const s = await snapshot(t.root);
    expect(s.host.pressure).toBeUndefined();
    expect(s.host.oomKills).toBeUndefined();
    expect(s.sockstat.tcp6).toBeUndefined();
    expect(s.limits.tcpMaxOrphans).toBeUndefined();
    expect(s.problems.hostSources).toContainEqual({
      source: 'sys/net/ipv4/tcp_max_orphans',
      reason: 'absent',
    });
    // every optional file that became undefined says so
    for (const source of ['pressure/cpu', 'pressure/memory', 'pressure/io', 'net/sockstat6', 'net/tcp6'])
      expect(s.problems.hostSources).toContainEqual({ source, reason: 'absent' });
    expect(s.processes.map((p) => p.pid)).toEqual(expect.arrayContaining(complete));
    // the IPv4 sockets are all still there
    expect(s.tcp.states.CLOSE_WAIT).toBe(CW.closeWait);
    for (const args of [
      ['ps'],
      ['ps', '--group'],
      ['sockets'],
      ['fds', String(CW.pid)],
      ['pmap', String(SHM.pid)],
      ['snapshot', '--cpu-window', '0'],
    ]) {
      const r = await runCli([...args, '--proc-root', t.root]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('one at a time, each is tolerated', async () => {
    for (const f of OPTIONAL) {
      const t = procTree({ from: 'busy-cluster', remove: [f] });
      const r = await runCli(['snapshot', '--json', '--cpu-window', '0', '--proc-root', t.root]);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      t.remove();
    }
  });

  it('a process without an fd directory keeps its other numbers', async () => {
    const t = procTree({ from: 'busy-cluster', remove: [`${WORKER}/fd`, `${WORKER}/fdinfo`] });
    const s = await snapshot(t.root);
    const w = s.processes.find((p) => p.pid === WORKER);
    expect(w?.fdCount).toBeUndefined();
    expect(w?.rssBytes).toBe((cap.tools.processes[WORKER]?.rssKiB ?? -1) * KIB);
  });
});

describe('a tree built from a map of path → text', () => {
  it('is enough for a snapshot of one process', async () => {
    const t = procTree({
      from: 'busy-cluster',
      // keep the host files, drop every process, then add one written by hand
      remove: cap.pids.map(String),
      write: {
        '4242/stat':
          '4242 ((sd-pam) x) S 1 4242 4242 0 -1 4194560 5 0 0 0 3 1 0 0 20 0 1 0 900 8192000 300 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n',
        '4242/status':
          'Name:\t(sd-pam) x\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t    1200 kB\nRssAnon:\t     400 kB\nRssFile:\t     800 kB\nRssShmem:\t       0 kB\nVmSwap:\t       0 kB\nThreads:\t1\n',
        '4242/cmdline': '(sd-pam)\0',
        '4242/comm': '(sd-pam) x\n',
        '4242/maps':
          '55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 1234   /usr/lib/systemd/systemd\n7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0      [stack]\n',
        '4242/smaps_rollup':
          '55d0c0a00000-7ffd1c021000 ---p 00000000 00:00 0 [rollup]\nRss:                1200 kB\nPss:                 700 kB\nPss_Anon:            400 kB\nPss_File:            300 kB\nPss_Shmem:             0 kB\nShared_Clean:        800 kB\nShared_Dirty:          0 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:       400 kB\nReferenced:         1200 kB\nAnonymous:           400 kB\nSwap:                  0 kB\n',
        '4242/limits':
          'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n',
      },
      link: {
        '4242/exe': '/usr/lib/systemd/systemd',
        '4242/fd/0': '/dev/null',
        '4242/fd/3': 'socket:[999999]',
      },
    });
    const s = await snapshot(t.root);
    expect(s.problems.vanished).toBe(0);
    expect(s.processes).toHaveLength(1);
    const p = s.processes[0];
    expect(p).toMatchObject({
      pid: 4242,
      comm: '(sd-pam) x',
      uid: 1000,
      state: 'S',
      rssBytes: 1200 * KIB,
      pssBytes: 700 * KIB,
      fdCount: 2,
      fdLimit: 1024,
      exe: '/usr/lib/systemd/systemd',
    });
    // a socket inode no table lists is "other"
    expect(p?.sockets?.other).toBe(1);
  });
});
