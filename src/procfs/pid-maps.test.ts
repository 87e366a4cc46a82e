import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { mappingKind, parseMapsLine, parsePidMaps, readPidMaps, type Mapping } from './pid-maps.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
// Captured on this VM (kernel 6.18) from a C program holding 1,000+ unmergeable anonymous mappings, a
// memfd, a SysV segment, a MAP_SHARED|MAP_ANONYMOUS region and a mapping of an unlinked file.
const MANY = readFileSync(`${FIX}/pid-many-maps.txt`, 'utf8');

// Lines from the same capture, plus kernel-format lines this kernel did not produce (no ANON_VMA_NAME).
const LINES = {
  file: '56292250c000-56292250d000 r-xp 00001000 fe:00 2146578                    /tmp/psz/zoo',
  heap: '562949755000-562949776000 rw-p 00000000 00:00 0                          [heap]',
  anon: '7f0019ec4000-7f0019f04000 rw-p 00000000 00:00 0 ',
  memfd: '7f0019f04000-7f001a004000 rw-s 00000000 00:01 1060                       /memfd:zoo-buf (deleted)',
  sysv: '7f001a004000-7f001a104000 rw-s 00000000 00:01 9                          /SYSV00000000 (deleted)',
  shared: '7f001a104000-7f001a504000 rw-s 00000000 00:01 1058                       /dev/zero (deleted)',
  deleted:
    '7f2552d13000-7f2552d16000 rw-s 00000000 fe:00 2146725                    /tmp/psz/deleted file with spaces (deleted)',
  vvar: '7f2552d18000-7f2552d1c000 r--p 00000000 00:00 0                          [vvar]',
  vclock: '7f2552d1c000-7f2552d1e000 r--p 00000000 00:00 0                          [vvar_vclock]',
  vdso: '7f2552d1e000-7f2552d20000 r-xp 00000000 00:00 0                          [vdso]',
  stack: '7fff0628c000-7fff062ad000 rw-p 00000000 00:00 0                          [stack]',
  vsyscall: 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  named: '7f3c1a000000-7f3c1a400000 rw-p 00000000 00:00 0                          [anon:zoo arena]',
  namedShared: '7f3c1a400000-7f3c1a800000 rw-s 00000000 00:01 77                         [anon_shmem:pool]',
};

describe('parsePidMaps', () => {
  it('parses a real process with 1,029 mappings', () => {
    const maps = parsePidMaps(MANY);
    expect(maps).toHaveLength(1029);
    expect(maps[0]).toEqual({
      start: 0x56292250b000,
      end: 0x56292250c000,
      perms: 'r--p',
      offset: 0,
      dev: 'fe:00',
      inode: 2146578,
      path: '/tmp/psz/zoo',
      deleted: false,
    });
    const kinds = new Map<string, number>();
    for (const m of maps) kinds.set(mappingKind(m), (kinds.get(mappingKind(m)) ?? 0) + 1);
    expect(Object.fromEntries(kinds)).toMatchObject({
      heap: 1,
      stack: 1,
      memfd: 1,
      'sysv-shm': 1,
      'shared-anon': 1,
      vdso: 1,
      vvar: 2,
      vsyscall: 1,
    });
    expect(kinds.get('anon')).toBeGreaterThan(1000);
    // sizes add up to what `pmap -d` printed for this very process at capture time ("mapped: 12892K")
    expect(maps.reduce((n, m) => n + (m.end - m.start), 0) / 1024).toBe(12892);
  });

  it('reads each special name', () => {
    const p = (l: string): Mapping => parseMapsLine(l, 1);
    expect(p(LINES.anon)).toMatchObject({ path: '', deleted: false, inode: 0, dev: '00:00' });
    expect(p(LINES.memfd)).toMatchObject({
      path: '/memfd:zoo-buf',
      deleted: true,
      inode: 1060,
      dev: '00:01',
    });
    expect(p(LINES.sysv)).toMatchObject({ path: '/SYSV00000000', deleted: true, inode: 9 });
    expect(p(LINES.deleted)).toMatchObject({ path: '/tmp/psz/deleted file with spaces', deleted: true });
    expect(p(LINES.named).path).toBe('[anon:zoo arena]');
    const v = p(LINES.vsyscall);
    // above 2^53 but page aligned: exact
    expect(v.start).toBe(Number(0xffffffffff600000n));
    expect(v.end - v.start).toBe(4096);
  });

  it('classifies mappings', () => {
    const k = (l: string): string => mappingKind(parseMapsLine(l, 1));
    expect(k(LINES.file)).toBe('file');
    expect(k(LINES.deleted)).toBe('file');
    expect(k(LINES.heap)).toBe('heap');
    expect(k(LINES.anon)).toBe('anon');
    expect(k(LINES.named)).toBe('anon');
    expect(k(LINES.namedShared)).toBe('shared-anon');
    expect(k(LINES.memfd)).toBe('memfd');
    expect(k(LINES.sysv)).toBe('sysv-shm');
    expect(k(LINES.shared)).toBe('shared-anon');
    expect(k(LINES.vvar)).toBe('vvar');
    expect(k(LINES.vclock)).toBe('vvar');
    expect(k(LINES.vdso)).toBe('vdso');
    expect(k(LINES.stack)).toBe('stack');
    expect(k(LINES.vsyscall)).toBe('vsyscall');
    expect(k(LINES.stack.replace('[stack]', '[stack:1234]'))).toBe('stack');
    expect(k(LINES.vdso.replace('[vdso]', '[uprobes]'))).toBe('other');
    expect(k(LINES.anon.replace(/ $/, '  anon_inode:[perf_event]'))).toBe('other');
    // a real file that happens to be named like a SysV segment or /dev/zero on a disk is a file
    expect(k(LINES.sysv.replace('00:01', 'fe:00'))).toBe('file');
    expect(k(LINES.shared.replace('00:01', 'fe:00'))).toBe('file');
    // /dev/zero mapped private is anonymous memory, never shows as "/dev/zero (deleted)" shared
    expect(k(LINES.shared.replace('rw-s', 'rw-p'))).toBe('file');
  });

  it('keeps a path with leading and inner spaces after the padding', () => {
    const l = '7f2552d13000-7f2552d16000 rw-p 00000000 fe:00 5 /a  b (deleted) x';
    expect(parseMapsLine(l, 1)).toMatchObject({ path: '/a  b (deleted) x', deleted: false });
  });

  it('accepts no trailing newline and blank lines', () => {
    expect(parsePidMaps(`${LINES.heap}\n\n${LINES.stack}`)).toHaveLength(2);
    expect(parsePidMaps('')).toEqual([]);
  });

  it('rejects garbage with the line and token', () => {
    expect(() => parsePidMaps(`${LINES.heap}\ngarbage`)).toThrow(ParseError);
    expect(() => parsePidMaps(`${LINES.heap}\n562949755000-562949776000 rw-p`)).toThrow(/line 2: truncated/);
    expect(() => parsePidMaps(LINES.heap.replace('rw-p', 'rwzp'))).toThrow(/bad perms near "rwzp"/);
    expect(() => parsePidMaps(LINES.heap.replace('562949755000-', '56294975500G-'))).toThrow(
      /bad hex number/,
    );
    expect(() => parsePidMaps(LINES.heap.replace('562949755000-', '1ffffffffffffffff-'))).toThrow(
      /bad hex number/,
    );
    expect(() => parsePidMaps(LINES.heap.replace('00:00', '00-00'))).toThrow(/bad dev/);
    expect(() => parsePidMaps(LINES.heap.replace(' 0      ', ' x      '))).toThrow(/bad inode near "x"/);
    expect(() => parsePidMaps('562949776000-562949755000 rw-p 00000000 00:00 0')).toThrow(/ends before/);
  });

  it('parses 10,000 mappings fast', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const a = (0x7f0000000000 + i * 0x2000).toString(16);
      const b = (0x7f0000000000 + i * 0x2000 + 0x1000).toString(16);
      lines.push(`${a}-${b} rw-p 00000000 00:00 0 `);
    }
    const text = lines.join('\n');
    let took = Infinity;
    // best of 5: the minimum is the parser's own cost, not the neighbours' load
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      expect(parsePidMaps(text)).toHaveLength(10_000);
      took = Math.min(took, performance.now() - t0);
    }
    expect(took).toBeLessThan(150);
  });
});

describe('readPidMaps (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('matches `pmap -d` for a running process', async () => {
    const pid = child.pid as number;
    const r = readPidMaps('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    const out = await run(['pmap', '-d', String(pid)], { timeoutMs: 10_000 });
    // each pmap -d row is one mapping; the rows sit between the header and the footer
    const rows = out.stdout.split('\n').filter((l) => /^[0-9a-f]{16} /.test(l));
    expect(rows.length).toBe(r.value.length);
    for (let i = 0; i < rows.length; i++) {
      const m = r.value[i] as Mapping;
      expect(rows[i]?.slice(0, 16)).toBe(m.start.toString(16).padStart(16, '0'));
    }
    expect(r.value.some((m) => mappingKind(m) === 'stack')).toBe(true);
  });

  it('reports a process that does not exist as gone', () => {
    expect(readPidMaps('/proc', 2 ** 22 + 7)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });
});
