import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseSockstat, readSockstat, readSockstat6 } from './net-sockstat.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
// Captured together with `ss -s` on this VM while a test program held loopback sockets (see net-tcp.test.ts).
const SOCKSTAT = readFileSync(join(FIX, 'loopback-sockstat.txt'), 'utf8');
const SOCKSTAT6 = readFileSync(join(FIX, 'loopback-sockstat6.txt'), 'utf8');
const SS_S = readFileSync(join(FIX, 'loopback-ss-s.txt'), 'utf8');

describe('parseSockstat', () => {
  const s = parseSockstat(SOCKSTAT);
  const s6 = parseSockstat(SOCKSTAT6);

  it('parses real sockstat and sockstat6', () => {
    expect(s).toMatchObject({
      socketsUsed: 44,
      tcp: { inuse: 15, orphan: 0, tw: 10, alloc: 20, memPages: 121 },
      udp: { inuse: 2, memPages: 0 },
      udplite: { inuse: 0 },
      raw: { inuse: 0 },
      frag: { inuse: 0, memoryBytes: 0 },
    });
    expect(s6).toMatchObject({
      socketsUsed: undefined,
      tcp: { inuse: 5, tw: undefined, memPages: undefined },
      udp: { inuse: 1 },
    });
    expect(s6.protocols['FRAG6']).toEqual({ inuse: 0, memory: 0 });
  });

  it('agrees with ss -s, which derives its summary from the same two files', () => {
    // ss.c print_summary(): TCP total = alloc + tw (+ SYN_RECV from slabinfo, 0 here); closed = alloc - (inuse4 + inuse6 - tw).
    const n = (re: RegExp): number => Number(re.exec(SS_S)?.[1]);
    const tcp = s.tcp!;
    expect(n(/^Total: (\d+)/m)).toBe(s.socketsUsed);
    expect(n(/^TCP: +(\d+)/m)).toBe(tcp.alloc! + tcp.tw!);
    expect(n(/closed (\d+)/)).toBe(tcp.alloc! - (tcp.inuse! + s6.tcp!.inuse! - tcp.tw!));
    expect(n(/orphaned (\d+)/)).toBe(tcp.orphan);
    expect(n(/timewait (\d+)/)).toBe(tcp.tw);
    const row = (name: string): number[] =>
      (new RegExp(`^${name}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(SS_S) ?? []).slice(1).map(Number);
    expect(row('TCP')).toEqual([tcp.inuse! + s6.tcp!.inuse!, tcp.inuse, s6.tcp!.inuse]);
    expect(row('UDP')).toEqual([s.udp!.inuse! + s6.udp!.inuse!, s.udp!.inuse, s6.udp!.inuse]);
    expect(row('RAW')).toEqual([0, s.raw!.inuse, s6.raw!.inuse]);
  });

  it('keeps unknown protocols and keys generically', () => {
    const x = parseSockstat(
      'sockets: used 3\nMPTCP: inuse 2 mem 7\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 1 extra 9\n',
    );
    expect(x.protocols['MPTCP']).toEqual({ inuse: 2, mem: 7 });
    expect(x.protocols['TCP']?.['extra']).toBe(9);
    expect(x.udp).toBeUndefined();
  });

  it('rejects garbage and truncated lines', () => {
    expect(() => parseSockstat('')).toThrow(/no lines/);
    expect(() => parseSockstat('TCP: inuse 1 orphan\n')).toThrow(/line 1: expected "PROTO/);
    expect(() => parseSockstat('sockets: used 1\nTCP: inuse x\n')).toThrow(/line 2: bad TCP inuse near "x"/);
    expect(() => parseSockstat('TCP: inuse 99999999999999999999\n')).toThrow(ParseError);
  });

  it('reads the live files', () => {
    expect(readSockstat('/proc').socketsUsed).toBeGreaterThan(0);
    expect(readSockstat6('/proc')?.tcp?.inuse).toBeGreaterThanOrEqual(0);
    expect(readSockstat6('/nonexistent')).toBeUndefined();
  });
});
