import { readFileSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parsePidIo, readPidIo } from './pid-io.js';

// Captured on this VM (kernel 6.18) from a program that wrote 12 bytes to stdout and truncated a file.
const ZOO =
  'rchar: 3980\nwchar: 12\nsyscr: 8\nsyscw: 1\nread_bytes: 0\nwrite_bytes: 8192\ncancelled_write_bytes: 4096\n';

describe('parsePidIo', () => {
  it('parses a real file', () => {
    expect(parsePidIo(ZOO)).toEqual({
      rcharBytes: 3980,
      wcharBytes: 12,
      syscr: 8,
      syscw: 1,
      readBytes: 0,
      writeBytes: 8192,
      cancelledWriteBytes: 4096,
    });
  });

  it('leaves missing lines undefined and ignores new ones', () => {
    const r = parsePidIo('rchar: 1\nfuture_thing: 5\n');
    expect(r.rcharBytes).toBe(1);
    expect(r.wcharBytes).toBeUndefined();
    expect(parsePidIo('').syscr).toBeUndefined();
  });

  it('keeps u64 counters as numbers', () => {
    expect(parsePidIo('rchar: 18446744073709551615\n').rcharBytes).toBeGreaterThan(1.8e19);
  });

  it('rejects garbage with the line and token', () => {
    expect(() => parsePidIo(ZOO.replace('syscw: 1', 'syscw: -1'))).toThrow(/line 4: bad syscw near "-1"/);
    expect(() => parsePidIo(ZOO.replace('wchar: 12', 'wchar:'))).toThrow(/bad wchar near "<missing>"/);
    expect(() => parsePidIo('rchar 5\n')).toThrow(ParseError);
  });
});

describe('readPidIo (live)', () => {
  it('counts what this process reads and writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pid-io-'));
    try {
      const before = readPidIo('/proc', process.pid);
      if (!before.ok) throw new Error(`read failed: ${before.failure.kind}`);
      const data = Buffer.alloc(1 << 20, 7);
      writeFileSync(join(dir, 'f'), data);
      const back = readFileSync(join(dir, 'f'));
      const after = readPidIo('/proc', process.pid);
      if (!after.ok) throw new Error('read failed');
      // other threads of this process (vitest's) do I/O too, so at least, not exactly
      expect((after.value.wcharBytes as number) - (before.value.wcharBytes as number)).toBeGreaterThanOrEqual(
        data.length,
      );
      expect((after.value.rcharBytes as number) - (before.value.rcharBytes as number)).toBeGreaterThanOrEqual(
        back.length,
      );
      expect((after.value.syscw as number) - (before.value.syscw as number)).toBeGreaterThanOrEqual(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
