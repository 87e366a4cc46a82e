import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseFibTrieLocal, parseIfInet6, readHostAddresses } from './net-addresses.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');
// Captured on this VM together with `ip -o addr`.
const FIB = fixture('host-fib_trie.txt');
const IF6 = fixture('host-if_inet6.txt');
const IP_ADDR = fixture('host-ip-addr.txt');

describe('host addresses', () => {
  it('takes the /32 host LOCAL leaves of fib_trie, not networks or broadcasts', () => {
    // 127.0.0.0 has "/8 host LOCAL", the broadcasts "/32 link BROADCAST": neither is an address of ours.
    expect(parseFibTrieLocal(FIB)).toEqual(['127.0.0.1', '192.0.2.2']);
  });

  it('parses if_inet6 with its network-order address', () => {
    expect(parseIfInet6(IF6)).toEqual([
      {
        address: 'fe80::fc:ff:fe00:1',
        ifindex: 4,
        prefixLength: 64,
        scope: 0x20,
        flags: 0x80,
        interface: 'eth0',
      },
      { address: '::1', ifindex: 1, prefixLength: 128, scope: 0x10, flags: 0x80, interface: 'lo' },
      { address: 'fd00::2', ifindex: 4, prefixLength: 64, scope: 0, flags: 0x82, interface: 'eth0' },
    ]);
  });

  it('agrees with ip -o addr', () => {
    const fromIp = [...IP_ADDR.matchAll(/\binet6? (\S+)\//g)].map((m) => m[1]).sort();
    expect([...parseFibTrieLocal(FIB), ...parseIfInet6(IF6).map((a) => a.address)].sort()).toEqual(fromIp);
  });

  it('rejects garbage', () => {
    expect(() => parseFibTrieLocal('Local:\n        /32 host LOCAL\n')).toThrow(/without a leaf/);
    expect(() => parseFibTrieLocal('     |-- 300.1.2.3\n')).toThrow(/bad leaf address/);
    expect(() => parseIfInet6('fe80 04 40 20 80 eth0\n')).toThrow(ParseError);
    expect(() => parseIfInet6(IF6.slice(0, 40))).toThrow(/line 1/);
    expect(parseIfInet6('')).toEqual([]);
  });

  it('reads the live host, agreeing with os.networkInterfaces()', () => {
    const fromNode = Object.values(networkInterfaces())
      .flat()
      .map((a) => a?.address ?? '')
      .sort();
    expect([...readHostAddresses('/proc')].sort()).toEqual(fromNode);
  });
});
