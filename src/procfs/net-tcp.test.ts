import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError, ProcsleuthError } from '../util/errors.js';
import {
  countTcpStates,
  formatIpv6Bytes,
  formatIpv6Words,
  parseNetTcp,
  parseNetTcp6,
  readNetTcp,
  readNetTcp6,
  socketAt,
  socketRows,
  TCP_STATES,
  type InetSocket,
  type InetSocketTable,
  type TcpStateName,
} from './net-tcp.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

// Captured on this VM (kernel 6.18) with a Python program holding: a listener on 127.0.0.1:41001 with
// established, CLOSE_WAIT/FIN_WAIT2, TIME_WAIT, unaccepted and unread-data connections; a listener on
// [::1]:41002; a dual-stack listener on [::]:41003 reached over IPv4 (IPv4-mapped rows in tcp6); a
// SYN_SENT to an unanswered 192.0.2.77. `ss -tan` was run right after `cat`.
const TCP = fixture('loopback-net-tcp.txt');
const TCP6 = fixture('loopback-net-tcp6.txt');
const SS_TAN = fixture('loopback-ss-tan.txt');

const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const LINE4 =
  '   0: 0100007F:A029 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 13721 2 00000000d27176a1 100 0 0 10 0\n';

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

/** `ss -tan` rows as "STATE local:port remote:port" in our address format. */
function ssRows(text: string): string[] {
  const ep = (s: string): string => {
    const i = s.lastIndexOf(':');
    let addr = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    const port = s.slice(i + 1) === '*' ? '0' : s.slice(i + 1);
    if (addr === '*') addr = '::'; // ss prints a dual-stack wildcard as *
    if (addr.startsWith('::ffff:') && addr.includes('.')) addr = addr.slice(7);
    return `${addr}:${port}`;
  };
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .map((f) => `${SS_STATE[f[0] ?? ''] ?? f[0]} ${ep(f[3] ?? '')} ${ep(f[4] ?? '')}`);
}

const rowKey = (r: InetSocket): string =>
  `${r.state} ${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort}`;

describe('parseNetTcp on captured text', () => {
  const t4 = parseNetTcp(TCP);
  const t6 = parseNetTcp6(TCP6);
  const rows = [...socketRows(t4), ...socketRows(t6)];

  it('reads every socket line', () => {
    expect(t4.family).toBe(4);
    expect(t4.length).toBe(TCP.trim().split('\n').length - 1);
    expect(t6.length).toBe(TCP6.trim().split('\n').length - 1);
  });

  it('decodes a listener with its accept backlog', () => {
    expect(socketAt(t4, 0)).toEqual({
      localAddress: '127.0.0.1',
      localPort: 41001,
      localMapped: false,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      remoteMapped: false,
      stateCode: 10,
      state: 'LISTEN',
      txQueue: 0,
      rxQueue: 1,
      timer: 0,
      timerExpiresTicks: 0,
      retransmits: 0,
      uid: 0,
      inode: 13721,
    });
  });

  it('decodes SYN_SENT with its retransmit timer, TIME_WAIT with inode 0', () => {
    const syn = rows.find((r) => r.state === 'SYN_SENT');
    expect(syn).toMatchObject({ localAddress: '192.0.2.2', remoteAddress: '192.0.2.77', remotePort: 41004 });
    expect(syn).toMatchObject({ timer: 1, txQueue: 1, timerExpiresTicks: 0x3d, inode: 13741 });
    const tw = rows.filter((r) => r.state === 'TIME_WAIT');
    expect(tw.length).toBeGreaterThan(0);
    for (const r of tw) expect(r).toMatchObject({ inode: 0, timer: 3 });
    expect(rows.find((r) => r.state === 'CLOSE_WAIT')).toMatchObject({ rxQueue: 1, inode: 13728 });
    expect(rows.find((r) => r.rxQueue === 1000)).toMatchObject({ state: 'ESTABLISHED', inode: 0 });
  });

  it('renders IPv6, the dual-stack wildcard and IPv4-mapped peers', () => {
    const l6 = socketRows(t6);
    expect(l6[0]).toMatchObject({
      localAddress: '::1',
      localPort: 41002,
      remoteAddress: '::',
      state: 'LISTEN',
    });
    expect(l6[1]).toMatchObject({ localAddress: '::', localPort: 41003, localMapped: false });
    const mapped = l6.filter((r) => r.localPort === 41003 && r.state !== 'LISTEN');
    expect(mapped.length).toBeGreaterThan(0);
    for (const r of mapped) {
      expect(r).toMatchObject({ localAddress: '127.0.0.1', localMapped: true, remoteAddress: '127.0.0.1' });
      expect(r.remoteMapped).toBe(true);
    }
  });

  it('agrees with ss -tan on the same sockets', () => {
    expect(rows.map(rowKey).sort()).toEqual(ssRows(SS_TAN).sort());
  });

  it('counts states like ss -tan, and remote addresses per state', () => {
    const c = countTcpStates([t4, t6, undefined]);
    const fromSs: Record<string, number> = {};
    for (const r of ssRows(SS_TAN)) fromSs[r.split(' ')[0] ?? ''] = (fromSs[r.split(' ')[0] ?? ''] ?? 0) + 1;
    expect(c.total).toBe(ssRows(SS_TAN).length);
    for (const s of TCP_STATES) expect([s, c.byState[s]]).toEqual([s, fromSs[s] ?? 0]);
    expect(c.unknownState).toBe(0);
    // The mapped peer of 41003 counts with the plain IPv4 127.0.0.1 peers.
    const est = c.remotesByState.ESTABLISHED;
    expect(est?.get('127.0.0.1')).toBe(
      rows.filter((r) => r.state === 'ESTABLISHED' && r.remoteAddress === '127.0.0.1').length,
    );
    expect(est?.get('::1')).toBe(2);
    expect(c.remotesByState.SYN_SENT).toEqual(new Map([['192.0.2.77', 1]]));
    expect(c.remotesByState.LAST_ACK).toBeUndefined();
  });

  it('interns addresses: each distinct one is formatted once', () => {
    expect(new Set(t4.addresses).size).toBe(t4.addresses.length);
    expect([...t4.addresses].sort()).toEqual(['0.0.0.0', '127.0.0.1', '192.0.2.2', '192.0.2.77']);
  });

  it('honours the byte order of the host that printed the text', () => {
    const be = parseNetTcp(HEADER4 + LINE4, { littleEndian: false });
    expect(socketAt(be, 0).localAddress).toBe('1.0.0.127');
    const be6 = parseNetTcp6(TCP6, { littleEndian: false });
    expect(socketAt(be6, 0).localAddress).toBe('::100:0');
  });

  it('accepts bytes as well as text', () => {
    expect(socketRows(parseNetTcp(Buffer.from(TCP)))).toEqual(socketRows(t4));
  });
});

describe('parseNetTcp on adversarial input', () => {
  const one = (line: string): InetSocketTable => parseNetTcp(HEADER4 + line);

  it('takes a header-only file as no sockets, and rejects a file without the header', () => {
    expect(parseNetTcp(HEADER4).length).toBe(0);
    expect(parseNetTcp(HEADER4.trimEnd()).length).toBe(0);
    expect(() => parseNetTcp('')).toThrow(/expected the "sl local_address" header/);
    expect(() => parseNetTcp(LINE4)).toThrow(ParseError);
  });

  it('tolerates a missing final newline, blank lines and wide slot numbers', () => {
    expect(one(LINE4.trimEnd()).length).toBe(1);
    expect(one(`\n${LINE4}\n${LINE4}`).length).toBe(2);
    expect(socketAt(one(LINE4.replace('   0:', '123456:')), 0).inode).toBe(13721);
    // The shortest line the kernel prints (TIME_WAIT) ends right after the pointer.
    const tw =
      '   6: 0100007F:9202 0100007F:A029 06 00000000:00000000 03:0000174A 00000000     0        0 0 3 00000000b9b7c8d1';
    expect(socketAt(one(tw), 0)).toMatchObject({ state: 'TIME_WAIT', timerExpiresTicks: 0x174a, inode: 0 });
  });

  it('keeps an unknown state code instead of failing the whole file', () => {
    const t = one(LINE4.replace(' 0A ', ' 0D '));
    expect(socketAt(t, 0)).toMatchObject({ stateCode: 13, state: undefined });
    const c = countTcpStates([t]);
    expect(c.unknownState).toBe(1);
    expect(Object.values(c.byState).reduce((a, b) => a + b, 0)).toBe(0);
    expect(socketAt(one(LINE4.replace(' 0A ', ' 0C ')), 0).state).toBe('NEW_SYN_RECV');
  });

  it('rejects truncated and garbled lines, naming the field, line and text', () => {
    const fail = (line: string): ParseError => {
      try {
        one(line);
      } catch (e) {
        if (e instanceof ParseError) return e;
        throw e;
      }
      throw new Error(`accepted ${line}`);
    };
    const cut = fail(LINE4.slice(0, 40));
    expect(cut.message).toMatch(/^<text>:line 2: bad tx_queue near " {3}0: 0100007F/);
    expect(cut.line).toBe(2);
    expect(fail(LINE4.replace('0100007F:A029', '0100007G:A029')).message).toMatch(/bad local address/);
    expect(fail(LINE4.replace('0100007F:A029', '100007F:A029')).message).toMatch(/bad local address/);
    expect(fail(LINE4.replace('0100007F:A029', '0100007F:A02')).message).toMatch(/bad local port/);
    expect(fail(LINE4.replace('00000000:0000', '00000000:00000')).message).toMatch(/bad remote port/);
    expect(fail(LINE4.replace(' 0A ', ' A ')).message).toMatch(/bad state/);
    expect(fail(LINE4.replace('   0:', '   x:')).message).toMatch(/bad slot number/);
    expect(fail(LINE4.replace('13721', '137x1')).message).toMatch(/bad inode/);
    expect(fail(LINE4.slice(0, LINE4.indexOf('     0        0 ') + 6)).message).toMatch(/bad uid/);
    expect(fail('garbage\n').message).toMatch(/bad slot number/);
    // Fails on the right line when earlier lines are fine.
    expect(fail(LINE4 + LINE4 + LINE4.slice(0, 20)).line).toBe(4);
  });

  it('rejects numbers too big for their column instead of wrapping them', () => {
    expect(() => one(LINE4.replace('00000000:00000001', '100000000:00000001'))).toThrow(/bad tx_queue/);
    expect(() => one(LINE4.replace('13721', '99999999999999999999'))).toThrow(/bad inode/);
    expect(() => one(LINE4.replace('     0        0 ', ' 4294967296        0 '))).toThrow(/bad uid/);
    // The largest values that fit are kept exactly.
    const big = one(
      LINE4.replace('00000000:00000001', 'FFFFFFFF:FFFFFFFF')
        .replace('     0        0 ', ' 4294967295        0 ')
        .replace('13721', '9007199254740991'),
    );
    expect(socketAt(big, 0)).toMatchObject({
      txQueue: 0xffffffff,
      rxQueue: 0xffffffff,
      uid: 4294967295,
      inode: 2 ** 53 - 1,
    });
  });

  it('rejects an IPv4 line in tcp6 and the other way round', () => {
    expect(() => parseNetTcp6(HEADER4 + LINE4)).toThrow(/bad local address/);
    expect(() => parseNetTcp(TCP6)).toThrow(/bad local address/);
  });
});

describe('address formatting (RFC 5952)', () => {
  const w = (...g: number[]): [number, number, number, number] => [
    ((g[0] ?? 0) << 16) | (g[1] ?? 0),
    ((g[2] ?? 0) << 16) | (g[3] ?? 0),
    ((g[4] ?? 0) << 16) | (g[5] ?? 0),
    ((g[6] ?? 0) << 16) | (g[7] ?? 0),
  ];
  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a single 0 is not shortened
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'], // the longest run wins
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // the first of equal runs wins
    [[0xfe80, 0, 0, 0, 0xfc, 0xff, 0xfe00, 1], 'fe80::fc:ff:fe00:1'],
    [
      [0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789],
      'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
    ],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
  ])('%j → %s', (groups, text) => {
    expect(formatIpv6Words(...w(...groups))).toBe(text);
    expect(formatIpv6Bytes(groups.flatMap((g) => [g >> 8, g & 255]))).toBe(text);
  });
});

describe('readNetTcp', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'procsleuth-net-tcp-'));
    mkdirSync(join(root, 'net'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('throws for a missing tcp, returns undefined for a missing tcp6', () => {
    expect(() => readNetTcp(root)).toThrow(ProcsleuthError);
    expect(readNetTcp6(root)).toBeUndefined();
  });

  it('names the file in a parse error', () => {
    writeFileSync(join(root, 'net/tcp'), HEADER4 + LINE4.slice(0, 30));
    expect(() => readNetTcp(root)).toThrow(new RegExp(`^${root}/net/tcp:line 2: bad remote`));
  });
});

describe('live /proc/net/tcp{,6} against ss', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const ports: number[] = [];

  const listen = (host: string, opts: net.ListenOptions = {}): Promise<number> =>
    new Promise((ok, fail) => {
      const s = net.createServer((c) => sockets.push(c));
      servers.push(s);
      s.once('error', fail);
      s.listen({ host, port: 0, ...opts }, () => {
        const a = s.address();
        if (a === null || typeof a === 'string') return fail(new Error('no port'));
        ports.push(a.port);
        ok(a.port);
      });
    });
  const connect = (host: string, port: number): Promise<void> =>
    new Promise((ok, fail) => {
      const c = net.connect({ host, port }, () => ok());
      c.once('error', fail);
      sockets.push(c);
    });

  beforeAll(async () => {
    const p4 = await listen('127.0.0.1');
    const p6 = await listen('::1');
    const pd = await listen('::', { ipv6Only: false });
    for (let i = 0; i < 3; i++) await connect('127.0.0.1', p4);
    await connect('::1', p6);
    await connect('127.0.0.1', pd); // IPv4 into a dual-stack listener: mapped rows in tcp6
    await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('sees the same sockets of ours as ss -tan', () => {
    // Filter in ss: other programs on this host may hold tens of thousands of sockets.
    const filter = `( ${ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )`;
    const ss = spawnSync('ss', ['-tanH', filter], { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 << 20 });
    const t4 = readNetTcp('/proc');
    const t6 = readNetTcp6('/proc');
    expect(ss.status).toBe(0);
    const ours = (k: string): boolean => ports.some((p) => k.includes(`:${p} `) || k.endsWith(`:${p}`));
    const fromSs = ssRows(`header\n${ss.stdout}`).filter(ours).sort();
    const fromProc = [...socketRows(t4), ...(t6 === undefined ? [] : socketRows(t6))]
      .map(rowKey)
      .filter(ours)
      .sort();
    expect(fromProc).toEqual(fromSs);
    // 3 listeners, 3 + 1 + 1 connections seen from both ends.
    expect(fromProc.filter((k) => k.startsWith('LISTEN')).length).toBe(3);
    expect(fromProc.filter((k) => k.startsWith('ESTABLISHED')).length).toBe(10);
    expect(fromProc.some((k) => k.startsWith(`ESTABLISHED 127.0.0.1:${ports[2]} 127.0.0.1:`))).toBe(true);
  });
});

describe('parseNetTcp on non-ASCII garbage', () => {
  it('does not read a character outside ASCII as a digit', () => {
    // U+0130 has 0x30 ('0') as its low byte: a latin1 conversion would have accepted it.
    expect(() => parseNetTcp(HEADER4 + LINE4.replace('0100007F:A029', '010000\u0130F:A029'))).toThrow(
      /bad local address near ".*\u0130/,
    );
  });
});
