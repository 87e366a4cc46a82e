import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, ProcsleuthError } from '../util/errors.js';
import {
  parseIpLocalPortRange,
  parseSomaxconn,
  parseTcpFinTimeoutSeconds,
  parseTcpMaxOrphans,
  parseTcpMem,
  readIpLocalPortRange,
  readSomaxconn,
  readTcpFinTimeoutSeconds,
  readTcpMaxOrphans,
  readTcpMem,
} from './sys-net.js';

// Captured on this VM (kernel 6.18).
describe('/proc/sys/net', () => {
  it('parses real values', () => {
    expect(parseTcpMem('287901\t383868\t575802\n')).toEqual({
      minPages: 287901,
      pressurePages: 383868,
      maxPages: 575802,
    });
    expect(parseTcpMaxOrphans('131072\n')).toBe(131072);
    expect(parseTcpFinTimeoutSeconds('60\n')).toBe(60);
    expect(parseIpLocalPortRange('32768\t60999\n')).toEqual([32768, 60999]);
    expect(parseSomaxconn('4096\n')).toBe(4096);
  });

  it('rejects garbage, truncation and impossible ranges', () => {
    expect(() => parseTcpMem('287901\t383868\n')).toThrow(/tcp_mem: expected 3/);
    expect(() => parseTcpMem('1\t2\t99999999999999999999\n')).toThrow(/bad tcp_mem/);
    expect(() => parseIpLocalPortRange('60999\t32768\n')).toThrow(/bad ip_local_port_range/);
    expect(() => parseIpLocalPortRange('1\t70000\n')).toThrow(ParseError);
    expect(() => parseSomaxconn('')).toThrow(ParseError);
    expect(() => parseTcpFinTimeoutSeconds('sixty\n')).toThrow(/near "sixty"/);
  });

  it('reads the live files', () => {
    const m = readTcpMem('/proc');
    expect(m.minPages).toBeLessThanOrEqual(m.pressurePages);
    expect(m.pressurePages).toBeLessThanOrEqual(m.maxPages);
    const [lo, hi] = readIpLocalPortRange('/proc');
    expect(lo).toBeLessThanOrEqual(hi);
    expect(readSomaxconn('/proc')).toBeGreaterThan(0);
    expect(readTcpMaxOrphans('/proc')).toBeGreaterThan(0);
    expect(readTcpFinTimeoutSeconds('/proc')).toBeGreaterThan(0);
  });

  it('throws for a missing file', () => {
    const root = mkdtempSync(join(tmpdir(), 'procsleuth-sysnet-'));
    try {
      expect(() => readSomaxconn(root)).toThrow(ProcsleuthError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
