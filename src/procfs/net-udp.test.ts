import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { socketRows } from './net-tcp.js';
import { parseNetUdp, parseNetUdp6, readNetUdp, readNetUdp6 } from './net-udp.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8');

// Captured on this VM: an unconnected socket bound to 127.0.0.1:41005 with one unread datagram, a
// connected one sending to it, and [::1]:41006. `ss -uan` ran right after.
describe('parseNetUdp', () => {
  const rows = [
    ...socketRows(parseNetUdp(fixture('loopback-net-udp.txt'))),
    ...socketRows(parseNetUdp6(fixture('loopback-net-udp6.txt'))),
  ];

  it('parses real text with hash-bucket slot numbers and drops', () => {
    expect(rows[0]).toMatchObject({
      localAddress: '127.0.0.1',
      localPort: 41005,
      stateCode: 7,
      state: 'CLOSE',
      rxQueue: 0x340,
      inode: 13742,
      drops: 0,
    });
    expect(rows[1]).toMatchObject({
      remoteAddress: '127.0.0.1',
      remotePort: 41005,
      stateCode: 1,
      inode: 13743,
    });
    expect(rows[2]).toMatchObject({ localAddress: '::1', localPort: 41006, remoteAddress: '::' });
  });

  it('agrees with ss -uan', () => {
    const ss = fixture('loopback-ss-uan.txt')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .map((f) => `${f[0] === 'UNCONN' ? 1 : 0} ${f[1]} ${(f[3] ?? '').replace(/[[\]]/g, '')}`);
    expect(
      rows.map((r) => `${r.stateCode === 7 ? 1 : 0} ${r.rxQueue} ${r.localAddress}:${r.localPort}`),
    ).toEqual(ss);
  });

  it('reads the drops column and rejects a line without it', () => {
    const head =
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
    const line =
      ' 5036: 0100007F:A02D 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 13598 2 000000009f0bce1d 17';
    expect(socketRows(parseNetUdp(head + line))[0]?.drops).toBe(17);
    expect(() => parseNetUdp(head + line.slice(0, -3))).toThrow(/bad pointer/);
    expect(() => parseNetUdp(head + line.replace(' 17', ' x'))).toThrow(/bad drops/);
  });

  it('reads the live files', () => {
    expect(readNetUdp('/proc').drops).toBeDefined();
    expect(readNetUdp6('/nonexistent')).toBeUndefined();
    expect(readNetUdp6('/proc')?.family).toBe(6);
  });
});
