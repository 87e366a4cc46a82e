/**
 * `report --bundle` end to end on this machine: a real process leaking fds and memory with planted
 * secrets in argv and environment, recorded by the real recorder at 200 ms, then the report command run
 * as its own process. Every file of the bundle is searched for every secret; the same run with
 * --no-redact must show them (so the search can fail).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../record/helpers.js';
import { AWS_KEY, MARKER, startLeaker, startRecorder, stopRecorder, type Leaker } from './planted.js';

/** Files of a tar archive (regular files only), parsed from the ustar headers. */
export function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number): string =>
      h
        .subarray(a, a + n)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const name = str(0, 100);
    const prefix = str(345, 155);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = str(156, 1);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    expect(parseInt(str(148, 8).trim(), 8)).toBe(sum);
    off += 512;
    if (type === '0' || type === '')
      files.set(prefix ? `${prefix}/${name}` : name, buf.subarray(off, off + size));
    off += Math.ceil(size / 512) * 512;
  }
  return files;
}

function runReport(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/procsleuth.js'), 'report', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let leaker: Leaker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-bundle-'));
  leaker = await startLeaker();
  const rec = await startRecorder(join(dir, 'record.db'), 40);
  await stopRecorder(rec);
}, 120_000);

afterAll(() => {
  leaker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('report --bundle', () => {
  it('holds the evidence of the leaking process and no planted secret anywhere', () => {
    const out = join(dir, 'b.tar.gz');
    const html = join(dir, 'r.html');
    const r = runReport(['--db', join(dir, 'record.db'), '--out', html, '--bundle', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = untar(gunzipSync(readFileSync(out)));
    const names = [...files.keys()].map((n) => n.split('/').slice(1).join('/'));
    expect(names).toEqual(
      expect.arrayContaining([
        'README.txt',
        'report.html',
        'report.json',
        'snapshot.json',
        'triage.json',
        'series/host.csv',
      ]),
    );
    // The leaker is a suspect: its own directory with the evidence a vendor asks for.
    const dirOf = names
      .find((n) => n.startsWith(`suspects/${leaker.pid}-`))
      ?.split('/')
      .slice(0, 2)
      .join('/');
    expect(dirOf, `no suspects/${leaker.pid}-… in ${names.join(', ')}`).toBeDefined();
    for (const f of [
      'pmap.json',
      'pmap.txt',
      'fds.json',
      'sockets.json',
      'limits.json',
      'environ.txt',
      'cmdline.txt',
      'process.json',
    ])
      expect(names).toContain(`${dirOf}/${f}`);
    expect(names.some((n) => n.startsWith(`series/${leaker.pid}-`))).toBe(true);
    const get = (suffix: string): string => {
      const k = [...files.keys()].find((n) => n.endsWith(suffix));
      return k ? (files.get(k)?.toString('utf8') ?? '') : '';
    };
    // The environment and argv were there and were redacted (not left out).
    expect(get(`${dirOf}/environ.txt`)).toContain('DB_PASSWORD=[redacted]');
    expect(get(`${dirOf}/environ.txt`)).toContain('PATH=');
    expect(get(`${dirOf}/cmdline.txt`)).toContain('--password [redacted]');
    const fds = JSON.parse(get(`${dirOf}/fds.json`)) as { fds: { target: string }[] };
    expect(fds.fds.filter((f) => f.target === '/dev/null').length).toBeGreaterThan(20);
    expect(get('report.json')).toContain(`"pid": ${leaker.pid}`);
    for (const [name, body] of files) {
      const text = body.toString('utf8');
      expect(text.includes(MARKER), `${name} holds a planted secret`).toBe(false);
      expect(text.includes(AWS_KEY), `${name} holds the AWS key id`).toBe(false);
      // names are not redacted: none may be made of a command line
      expect(name.includes(MARKER) || name.includes(AWS_KEY), `the name ${name}`).toBe(false);
    }
    expect(readFileSync(html, 'utf8')).not.toContain(MARKER);
    // The system tar reads what our writer wrote.
    const t = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' });
    expect(t.status).toBe(0);
    expect(t.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(files.size);
  }, 120_000);

  it('--no-redact keeps them (the search above can fail)', () => {
    const out = join(dir, 'raw.tar.gz');
    const r = runReport(['--db', join(dir, 'record.db'), '--no-triage', '--bundle', out, '--no-redact']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('NOT redacted');
    const files = untar(gunzipSync(readFileSync(out)));
    const all = [...files.values()].map((b) => b.toString('utf8')).join('\n');
    expect(all).toContain('PL4NTED-ARGV-PASS');
    expect(all).toContain('PL4NTED-ARGV-TOKEN');
  }, 120_000);
});
