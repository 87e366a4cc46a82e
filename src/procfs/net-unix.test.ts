import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseNetUnix, readNetUnix } from './net-unix.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
// Captured on this VM: a listener at a path with a space, a connection to it, an abstract listener,
// a bound DGRAM, an abstract SEQPACKET whose name holds a NUL, a socketpair. `ss -xan` ran right after.
const UNIX = readFileSync(join(FIX, 'loopback-net-unix.txt'), 'utf8');
const SS_XAN = readFileSync(join(FIX, 'loopback-ss-xan.txt'), 'utf8');

describe('parseNetUnix', () => {
  const all = parseNetUnix(UNIX);

  it('parses real text: paths with spaces, abstract names, types, states, listening', () => {
    expect(all.find((s) => s.inode === 13745)).toEqual({
      refCount: 2,
      flags: 0x10000,
      type: 'STREAM',
      typeCode: 1,
      state: 'UNCONNECTED',
      stateCode: 1,
      listening: true,
      inode: 13745,
      path: '/tmp/cap/u dir/with space.sock',
      abstract: false,
    });
    expect(all.find((s) => s.inode === 13748)).toMatchObject({
      path: '@procsleuth abstract',
      abstract: true,
      listening: true,
    });
    expect(all.find((s) => s.inode === 13750)).toMatchObject({
      type: 'SEQPACKET',
      path: '@seq@with nul',
      listening: false,
    });
    expect(all.find((s) => s.inode === 13749)).toMatchObject({ type: 'DGRAM', path: '/tmp/cap/plain.sock' });
    expect(all.find((s) => s.inode === 647)).toMatchObject({
      state: 'CONNECTED',
      path: undefined,
      abstract: false,
    });
  });

  it('agrees with ss -xan', () => {
    const NETID: Record<string, string> = { u_str: 'STREAM', u_dgr: 'DGRAM', u_seq: 'SEQPACKET' };
    const ss = SS_XAN.trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        // "Netid State Recv-Q Send-Q Local-Address Port Peer Port": the local address may hold spaces.
        const m = /^(\S+)\s+(\S+)\s+\d+\s+\d+\s+(.*?)\s+(\d+)\s+\S+\s+\d+\s*$/.exec(l);
        return `${NETID[m?.[1] ?? '']} ${m?.[2] === 'LISTEN'} ${m?.[4]} ${m?.[3] === '*' ? '' : m?.[3]}`;
      });
    expect(all.map((s) => `${s.type} ${s.listening} ${s.inode} ${s.path ?? ''}`)).toEqual(ss);
  });

  it('takes a header-only file, keeps unknown type and state codes', () => {
    expect(parseNetUnix('Num       RefCount Protocol Flags    Type St Inode Path\n')).toEqual([]);
    const odd = parseNetUnix(
      'Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00000000 0009 07  1\n',
    );
    expect(odd[0]).toMatchObject({ type: undefined, typeCode: 9, state: undefined, stateCode: 7, inode: 1 });
  });

  it('rejects garbage and truncated lines, and a file without the header', () => {
    const head = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
    expect(() => parseNetUnix('')).toThrow(/header/);
    expect(() => parseNetUnix(head + '00000000ebf59c2a: 00000003 00000000 00000000 0001\n')).toThrow(
      /line 2: bad unix socket line/,
    );
    expect(() => parseNetUnix(head + 'garbage\n')).toThrow(ParseError);
    expect(() =>
      parseNetUnix(head + '00000000ebf59c2a: 00000003 00000000 00000000 0001 03   99999999999999999999\n'),
    ).toThrow(/inode too large/);
  });

  it('reads the live file', () => {
    expect(readNetUnix('/proc').every((s) => s.inode > 0)).toBe(true);
  });
});
