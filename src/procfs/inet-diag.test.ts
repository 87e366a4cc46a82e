import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INET_DIAG_ADDON_PATH,
  inetDiagAvailable,
  inetDiagUnavailableReason,
  loadInetDiagAddon,
  readInetDiag,
  tcpStateMask,
  type InetDiagAddon,
} from './inet-diag.js';
import {
  formatIpv4,
  formatIpv6BytesMapped,
  parseNetTcp,
  parseNetTcp6,
  socketRows,
  TCP_STATES,
  type InetSocket,
  type InetSocketTable,
  type TcpStateName,
} from './net-tcp.js';
import { parseNetUdp, parseNetUdp6 } from './net-udp.js';

// The addon is optional (binding.gyp; `npm ci` builds it where a compiler is present). Where it did
// not build, or PROCSLEUTH_NO_NATIVE turns it off, these tests skip; where it built but the kernel
// refuses, they fail, which is the point.
const built = existsSync(INET_DIAG_ADDON_PATH) && !process.env['PROCSLEUTH_NO_NATIVE'];

const procTcp = (family: 4 | 6): InetSocketTable =>
  family === 4 ? parseNetTcp(readFileSync('/proc/net/tcp')) : parseNetTcp6(readFileSync('/proc/net/tcp6'));
const procUdp = (family: 4 | 6): InetSocketTable =>
  family === 4 ? parseNetUdp(readFileSync('/proc/net/udp')) : parseNetUdp6(readFileSync('/proc/net/udp6'));

function diag(family: 4 | 6, protocol: 'tcp' | 'udp', states?: TcpStateName[]): InetSocketTable {
  const t = readInetDiag(family, protocol, states);
  if (t === undefined) throw new Error(`sock_diag unavailable: ${inetDiagUnavailableReason() ?? '?'}`);
  return t;
}

const ep = (addr: string, mapped: boolean, port: number): string =>
  `${mapped ? 'mapped:' : ''}${addr}:${port}`;
/** A socket's identity as the brief asks: local, remote, state, inode. */
const rowKey = (r: InetSocket): string =>
  `${ep(r.localAddress, r.localMapped, r.localPort)} ${ep(r.remoteAddress, r.remoteMapped, r.remotePort)} ${r.state ?? r.stateCode} ${r.inode}`;
const keySet = (rows: InetSocket[]): Set<string> => new Set(rows.map(rowKey));

/** ss's state names → the kernel's. */
const SS_STATE: Record<string, TcpStateName> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

// ---------------------------------------------------------------------------------------------------
// A small zoo of real sockets on loopback, made once.

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

async function listen(
  host: string,
  opts: net.ServerOpts,
  ipv6Only?: boolean,
): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer(opts, (s) => {
    s.on('error', () => {});
    accepted.push(s);
    sockets.push(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, ipv6Only }, resolve);
  });
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

async function connect(host: string, port: number): Promise<net.Socket> {
  const c = net.connect({ host, port });
  sockets.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  c.on('error', () => {});
  return c;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Stack {
  family: 4 | 6;
  host: string;
  listenPort: number;
  /** Client ports of the established, the half-closed (CLOSE_WAIT) and the TIME_WAIT connection. */
  estPort: number;
  cwPort: number;
  twPort: number;
}

const stacks: Stack[] = [];
let dualPort = 0;
let dualClientPort = 0;
const ports = new Set<number>();
const ours = (r: InetSocket): boolean => ports.has(r.localPort) || ports.has(r.remotePort);

/**
 * Per stack: a listener that never reads (pauseOnConnect) and keeps half-open connections open
 * (allowHalfOpen); an established pair with 3000 unread bytes on the server side; a pair whose client
 * shut down its side (server CLOSE_WAIT, client FIN_WAIT2); a pair the server closed first (server
 * TIME_WAIT, a mini socket). Plus a dual-stack listener on [::] reached over IPv4 (mapped rows).
 */
async function makeSockets(): Promise<void> {
  for (const [family, host] of [
    [4, '127.0.0.1'],
    [6, '::1'],
  ] as const) {
    const l = await listen(host, { allowHalfOpen: true, pauseOnConnect: true });
    ports.add(l.port);
    const est = await connect(host, l.port);
    est.write(Buffer.alloc(3000, 7));
    const cw = await connect(host, l.port);
    cw.end();
    const tw = await connect(host, l.port);
    tw.resume(); // reads the server's FIN, so the client closes too and the server side reaches TIME_WAIT
    await until(() => l.accepted.length === 3, 'three accepts');
    const twServer = l.accepted.find((s) => s.remotePort === tw.localPort);
    twServer?.destroy();
    stacks.push({
      family,
      host,
      listenPort: l.port,
      estPort: est.localPort ?? 0,
      cwPort: cw.localPort ?? 0,
      twPort: tw.localPort ?? 0,
    });
  }
  const d = await listen('::', {}, false);
  dualPort = d.port;
  ports.add(dualPort);
  const dc = await connect('127.0.0.1', dualPort);
  dualClientPort = dc.localPort ?? 0;

  // Settled when /proc shows every state we made.
  await until(() => {
    for (const s of stacks) {
      const rows = socketRows(procTcp(s.family)).filter(ours);
      const has = (state: TcpStateName, local: number, remote: number): boolean =>
        rows.some((r) => r.state === state && r.localPort === local && r.remotePort === remote);
      if (
        !has('TIME_WAIT', s.listenPort, s.twPort) ||
        !has('CLOSE_WAIT', s.listenPort, s.cwPort) ||
        !has('FIN_WAIT2', s.cwPort, s.listenPort) ||
        rows.some((r) => r.localPort === s.twPort && r.remotePort === s.listenPort) ||
        !rows.some((r) => r.localPort === s.listenPort && r.remotePort === s.estPort && r.rxQueue === 3000)
      )
        return false;
    }
    return true;
  }, 'the sockets to settle');
}

describe.skipIf(!built)('readInetDiag on real loopback sockets', () => {
  beforeAll(makeSockets, 20_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('is available here', () => {
    expect(inetDiagAvailable()).toBe(true);
    expect(inetDiagUnavailableReason()).toBeUndefined();
  });

  for (const family of [4, 6] as const) {
    it(`has the same rows as /proc/net/tcp${family === 6 ? '6' : ''} (local, remote, state, inode)`, () => {
      // The whole host's table, not just ours: other programs open and close sockets meanwhile, so
      // bracket the /proc read with two dumps. A row in both dumps must be in /proc; a row in /proc
      // must be in one of the dumps. Retried a few times in case a burst of churn defeats the bracket.
      let diff: { missingFromProc: string[]; notDumped: string[] } | undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        const a = keySet(socketRows(diag(family, 'tcp')));
        const p = keySet(socketRows(procTcp(family)));
        const b = keySet(socketRows(diag(family, 'tcp')));
        diff = {
          missingFromProc: [...a].filter((k) => b.has(k) && !p.has(k)),
          notDumped: [...p].filter((k) => !a.has(k) && !b.has(k)),
        };
        if (diff.missingFromProc.length === 0 && diff.notDumped.length === 0) break;
      }
      expect(diff).toEqual({ missingFromProc: [], notDumped: [] });

      // Ours are stable: those must match exactly, and be all there.
      const mine = [...keySet(socketRows(diag(family, 'tcp')).filter(ours))].sort();
      expect(mine).toEqual([...keySet(socketRows(procTcp(family)).filter(ours))].sort());
      // 6 per stack (LISTEN, 2 ESTABLISHED, CLOSE_WAIT, FIN_WAIT2, TIME_WAIT) + the dual-stack client (4)
      // or the dual-stack listener and its accepted socket (6).
      expect(mine.length).toBe(family === 4 ? 7 : 8);
    });

    it(`has /proc's values in every field of our tcp${family === 6 ? '6' : ''} rows`, () => {
      const d = socketRows(diag(family, 'tcp')).filter(ours);
      const p = new Map(
        socketRows(procTcp(family))
          .filter(ours)
          .map((r) => [rowKey(r), r]),
      );
      for (const r of d) {
        const q = p.get(rowKey(r));
        expect(q, rowKey(r)).toBeDefined();
        if (q === undefined) continue;
        // Expiry is "ticks from now", and now moved between the two reads.
        expect(Math.abs(r.timerExpiresTicks - q.timerExpiresTicks), rowKey(r)).toBeLessThanOrEqual(20);
        expect({ ...r, timerExpiresTicks: 0 }, rowKey(r)).toEqual({ ...q, timerExpiresTicks: 0 });
      }

      const s = stacks.find((x) => x.family === family);
      if (s === undefined) throw new Error('no stack');
      const find = (state: TcpStateName, local: number, remote: number): InetSocket | undefined =>
        d.find((r) => r.state === state && r.localPort === local && r.remotePort === remote);
      const uid = process.getuid?.() ?? 0;

      const listener = find('LISTEN', s.listenPort, 0);
      expect(listener?.localAddress).toBe(s.host);
      expect(listener?.txQueue).toBe(0); // sock_diag says the backlog limit (511); /proc says 0
      expect(listener?.inode).toBeGreaterThan(0);
      expect(listener?.uid).toBe(uid);

      const unread = find('ESTABLISHED', s.listenPort, s.estPort);
      expect(unread?.rxQueue).toBe(3000);
      expect(unread?.inode).toBeGreaterThan(0);

      expect(find('CLOSE_WAIT', s.listenPort, s.cwPort)?.inode).toBeGreaterThan(0);
      expect(find('FIN_WAIT2', s.cwPort, s.listenPort)?.inode).toBeGreaterThan(0);

      // TIME_WAIT is a mini socket: no owner, no inode, the time_wait timer (3), at most 60 s left.
      const tw = find('TIME_WAIT', s.listenPort, s.twPort);
      expect(tw).toMatchObject({ inode: 0, uid: 0, timer: 3, txQueue: 0, rxQueue: 0, retransmits: 0 });
      expect(tw?.timerExpiresTicks).toBeGreaterThan(0);
      expect(tw?.timerExpiresTicks).toBeLessThanOrEqual(60 * 100);
    });
  }

  it('agrees with `ss -tan` on our sockets (state, Recv-Q, endpoints) and their counts', () => {
    // A busy host prints megabytes here: lift spawnSync's 1 MB default.
    const r = spawnSync('ss', ['-tan'], { encoding: 'utf8', timeout: 10_000, maxBuffer: 256 << 20 });
    expect(r.status).toBe(0);
    const ssEp = (s: string): string => {
      const i = s.lastIndexOf(':');
      let addr = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
      const port = s.slice(i + 1) === '*' ? '0' : s.slice(i + 1);
      if (addr === '*') addr = '::'; // ss prints a dual-stack wildcard as *
      if (addr.startsWith('::ffff:') && addr.includes('.')) addr = addr.slice(7);
      return `${addr}:${port}`;
    };
    const portOf = (e: string): number => Number(e.slice(e.lastIndexOf(':') + 1));
    const fromSs = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .map((f) => ({
        state: SS_STATE[f[0] ?? ''] ?? f[0],
        recvQ: f[1],
        local: ssEp(f[3] ?? ''),
        remote: ssEp(f[4] ?? ''),
      }))
      .filter((x) => ports.has(portOf(x.local)) || ports.has(portOf(x.remote)))
      .map((x) => `${x.state} ${x.recvQ} ${x.local} ${x.remote}`)
      .sort();
    const fromDiag = [...socketRows(diag(4, 'tcp')), ...socketRows(diag(6, 'tcp'))]
      .filter(ours)
      .map(
        (x) => `${x.state} ${x.rxQueue} ${x.localAddress}:${x.localPort} ${x.remoteAddress}:${x.remotePort}`,
      )
      .sort();
    expect(fromDiag).toEqual(fromSs);
    const counts = (rows: string[]): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const row of rows) {
        const st = row.split(' ')[0] ?? '';
        c[st] = (c[st] ?? 0) + 1;
      }
      return c;
    };
    expect(counts(fromDiag)).toEqual(counts(fromSs));
    expect(counts(fromDiag)).toMatchObject({ LISTEN: 3, TIME_WAIT: 2, CLOSE_WAIT: 2, FIN_WAIT2: 2 });
  });

  it('returns only the states asked for, filtered in the kernel', () => {
    for (const family of [4, 6] as const) {
      const s = stacks.find((x) => x.family === family);
      if (s === undefined) throw new Error('no stack');
      const t = diag(family, 'tcp', ['TIME_WAIT', 'CLOSE_WAIT']);
      const rows = socketRows(t);
      expect(new Set(rows.map((r) => r.state)).size).toBeLessThanOrEqual(2);
      for (const r of rows) expect(['TIME_WAIT', 'CLOSE_WAIT']).toContain(r.state);
      expect(
        rows
          .filter(ours)
          .map((r) => `${r.state} ${r.localPort} ${r.remotePort}`)
          .sort(),
      ).toEqual([`CLOSE_WAIT ${s.listenPort} ${s.cwPort}`, `TIME_WAIT ${s.listenPort} ${s.twPort}`].sort());

      const listen = socketRows(diag(family, 'tcp', ['LISTEN']));
      expect(listen.every((r) => r.state === 'LISTEN')).toBe(true);
      expect(listen.some((r) => r.localPort === s.listenPort)).toBe(true);

      // SYN_RECV also asks for the kernel's NEW_SYN_RECV request sockets, which report as SYN_RECV.
      expect(socketRows(diag(family, 'tcp', ['SYN_RECV'])).every((r) => r.state === 'SYN_RECV')).toBe(true);
      expect(diag(family, 'tcp', []).length).toBe(0);
    }
  });

  it('renders IPv4-mapped peers of a dual-stack listener as IPv4, flagged mapped, like /proc', () => {
    const rows = socketRows(diag(6, 'tcp')).filter((r) => r.localPort === dualPort);
    const listener = rows.find((r) => r.state === 'LISTEN');
    expect(listener).toMatchObject({ localAddress: '::', localMapped: false, remoteAddress: '::' });
    const accepted = rows.find((r) => r.state === 'ESTABLISHED' && r.remotePort === dualClientPort);
    expect(accepted).toMatchObject({
      localAddress: '127.0.0.1',
      localMapped: true,
      remoteAddress: '127.0.0.1',
      remoteMapped: true,
    });
    // The client's side is a plain IPv4 socket in the IPv4 table.
    const client = socketRows(diag(4, 'tcp')).find(
      (r) => r.localPort === dualClientPort && r.remotePort === dualPort,
    );
    expect(client).toMatchObject({ localAddress: '127.0.0.1', localMapped: false, state: 'ESTABLISHED' });
    // And the table's own mapped[] column agrees with /proc/net/tcp6's.
    const t = diag(6, 'tcp');
    const p = procTcp(6);
    const flags = (x: InetSocketTable): Map<string, boolean> =>
      new Map(x.addresses.map((a, i) => [a, x.mapped[i] ?? false]));
    const pf = flags(p);
    for (const [a, m] of flags(t)) if (pf.has(a)) expect(m, a).toBe(pf.get(a));
  });

  it('reads UDP: unconnected and connected sockets, awkward IPv6 peers, and drops, like /proc/net/udp', async () => {
    const opened: dgram.Socket[] = [];
    const bind = async (type: 'udp4' | 'udp6', host: string, rcvbuf?: number): Promise<dgram.Socket> => {
      const s = dgram.createSocket({ type, ...(rcvbuf !== undefined ? { recvBufferSize: rcvbuf } : {}) });
      opened.push(s);
      await new Promise<void>((resolve) => s.bind(0, host, resolve));
      return s;
    };
    const connectUdp = (s: dgram.Socket, port: number, host: string): Promise<void> =>
      new Promise((resolve, reject) => {
        s.once('error', reject);
        s.connect(port, host, () => resolve());
      });
    try {
      const r4 = await bind('udp4', '127.0.0.1', 4096);
      await bind('udp6', '::1');
      const c4 = await bind('udp4', '127.0.0.1');
      await connectUdp(c4, r4.address().port, '127.0.0.1');
      // Connected UDP needs only a route, so these reach the kernel's tables with exactly these peers:
      // a tie of two zero runs (the first is compressed), a lone zero group (never compressed), an
      // IPv4-compatible address (glibc's inet_ntop would print ::1.2.3.4), and a mapped one.
      const peers = ['2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '::102:304', '::ffff:127.0.0.1'];
      const c6: dgram.Socket[] = [];
      for (const peer of peers) {
        const s = await bind('udp6', '::');
        try {
          await connectUdp(s, 9, peer);
          c6.push(s);
        } catch {
          // no IPv6 route on this host: that peer is skipped
        }
      }
      const udpPorts = new Set([...opened].map((s) => s.address().port));
      const mine = (r: InetSocket): boolean => udpPorts.has(r.localPort);

      // Drops: flood r4 from a child while this process is blocked in spawnSync and cannot read.
      const flood = spawnSync(
        process.execPath,
        [
          '-e',
          `const s=require('dgram').createSocket('udp4');let n=0;const b=Buffer.alloc(1000);` +
            `for(let i=0;i<300;i++)s.send(b,${r4.address().port},'127.0.0.1',()=>{if(++n===300)s.close()});`,
        ],
        { timeout: 10_000 },
      );
      expect(flood.status).toBe(0);

      for (const family of [4, 6] as const) {
        const d = socketRows(diag(family, 'udp')).filter(mine);
        const p = socketRows(procUdp(family)).filter(mine);
        expect(d.map(rowKey).sort()).toEqual(p.map(rowKey).sort());
        const byKey = new Map(p.map((r) => [rowKey(r), r]));
        for (const r of d) expect(r, rowKey(r)).toEqual(byKey.get(rowKey(r)));
      }
      const recv = socketRows(diag(4, 'udp')).find((r) => r.localPort === r4.address().port);
      expect(recv?.state).toBe('CLOSE'); // unconnected: "UNCONN" in ss
      expect(recv?.drops).toBeGreaterThan(0);
      expect(recv?.rxQueue).toBeGreaterThan(0);
      const conn = socketRows(diag(4, 'udp')).find((r) => r.localPort === c4.address().port);
      expect(conn).toMatchObject({ state: 'ESTABLISHED', remotePort: r4.address().port, drops: 0 });
      const remotes = socketRows(diag(6, 'udp'))
        .filter(mine)
        .map((r) => (r.remoteMapped ? `::ffff:${r.remoteAddress}` : r.remoteAddress));
      for (const peer of peers.slice(0, c6.length)) expect(remotes).toContain(peer);
    } finally {
      for (const s of opened) s.close();
    }
  });

  describe('the addon itself', () => {
    const addon = loadInetDiagAddon() as InetDiagAddon;

    it('throws an errno-coded Error when the kernel has no diag handler (the fallback signal)', () => {
      let caught: unknown;
      try {
        addon.dumpInet(4, 200, tcpStateMask()); // IPPROTO 200: no such sock_diag handler
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'dump' });
    });

    it('rejects bad arguments with a TypeError', () => {
      const bad = addon as unknown as { dumpInet: (...a: unknown[]) => unknown };
      expect(() => bad.dumpInet(5, 'tcp', 1)).toThrow(TypeError);
      expect(() => bad.dumpInet(4, 'sctp', 1)).toThrow(TypeError);
      expect(() => bad.dumpInet(4, 'tcp', '1')).toThrow(TypeError);
      expect(() => bad.dumpInet(4, 'tcp')).toThrow(TypeError);
      expect(() => bad.dumpInet(4, 256, 1)).toThrow(TypeError);
    });

    it('formats addresses exactly like net-tcp.ts (random, zero-heavy IPv6; mapped; IPv4)', () => {
      let seed = 12345;
      const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
      for (let i = 0; i < 5000; i++) {
        const b = new Uint8Array(16);
        // Each group zero with probability 1/2, so runs, ties and edges are all common.
        for (let g = 0; g < 8; g++) {
          if (rnd() % 2 === 0) continue;
          const v = rnd() % 4 === 0 ? rnd() % 16 : rnd();
          b[2 * g] = (v >>> 8) & 255;
          b[2 * g + 1] = v & 255;
        }
        if (i % 50 === 0) b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255], 0);
        const want = formatIpv6BytesMapped(b);
        expect(addon.formatAddress(b), Buffer.from(b).toString('hex')).toEqual([want.address, want.mapped]);
      }
      expect(addon.formatAddress(new Uint8Array(16))).toEqual(['::', false]);
      expect(addon.formatAddress(new Uint8Array([10, 0, 255, 1]))).toEqual([formatIpv4(0x0a00ff01), false]);
      expect(() => addon.formatAddress(new Uint8Array(5))).toThrow(TypeError);
    });
  });
});

describe('loadInetDiagAddon', () => {
  it('answers undefined, with the reason, for an addon that is not there', () => {
    let why = '';
    expect(loadInetDiagAddon('/nonexistent/inet_diag.node', (r) => (why = r))).toBeUndefined();
    expect(why).toMatch(/Cannot find module|ENOENT/);
  });

  it('answers undefined for a file that is not an addon', () => {
    let why = '';
    expect(loadInetDiagAddon('/proc/self/stat', (r) => (why = r))).toBeUndefined();
    expect(why).not.toBe('');
  });
});

describe('tcpStateMask', () => {
  it('sets bit 1 << code per state, adding NEW_SYN_RECV to SYN_RECV', () => {
    expect(tcpStateMask(['ESTABLISHED'])).toBe(1 << 1);
    expect(tcpStateMask(['TIME_WAIT', 'LISTEN'])).toBe((1 << 6) | (1 << 10));
    expect(tcpStateMask(['SYN_RECV'])).toBe((1 << 3) | (1 << 12));
    expect(tcpStateMask([])).toBe(0);
  });

  it('asks for every named state but not the kernel-only TCP_BOUND_INACTIVE (13)', () => {
    const all = tcpStateMask();
    for (let code = 1; code <= TCP_STATES.length; code++) expect(all & (1 << code)).not.toBe(0);
    expect(all & 1).toBe(0);
    expect(all & (1 << 13)).toBe(0);
  });
});
