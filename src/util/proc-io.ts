/**
 * The one place that reads /proc-like files and classifies their I/O errors (DESIGN.md, convention 3).
 *
 * Reads are synchronous into one reused buffer: measured on a 2-vCPU VM with ~1,000 processes this is
 * 1.5–2× faster than readFileSync and 7× faster than fs.promises for thousands of tiny files.
 */
import * as fs from 'node:fs';
import { ParseError, ProcsleuthError, errnoCode } from './errors.js';

/** What became of one read that did not return text. */
export type ReadFailure =
  | { kind: 'gone' } // ENOENT/ESRCH under /proc/<pid>: the process exited
  | { kind: 'denied' } // EACCES/EPERM: that field is unknown
  | { kind: 'absent' }; // ENOENT on an optional file: the section does not exist

export type ReadResult = { ok: true; text: string } | { ok: false; failure: ReadFailure };

let buf = Buffer.allocUnsafe(64 * 1024);

/** Classify an fs error; anything unexpected is thrown, wrapped with the path. */
export function classify(err: unknown, path: string, underPid: boolean): ReadFailure {
  const code = errnoCode(err);
  if (code === 'ENOENT' || code === 'ESRCH') return underPid ? { kind: 'gone' } : { kind: 'absent' };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'denied' };
  // A zombie's or a dying process's files answer EINVAL/EIO for a moment: treat it as gone.
  if (underPid && (code === 'EINVAL' || code === 'EIO')) return { kind: 'gone' };
  throw new ProcsleuthError('IO', `cannot read ${path}: ${code ?? String(err)}`, { cause: err });
}

/** Read a whole file synchronously. `underPid` says whether ENOENT means "the process exited". */
export function readText(path: string, underPid = false): ReadResult {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    return { ok: false, failure: classify(err, path, underPid) };
  }
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return { ok: true, text: buf.toString('utf8', 0, len) };
  } catch (err) {
    return { ok: false, failure: classify(err, path, underPid) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first bytes of an optional file, or undefined. For seq_file files the kernel then formats only
 * what fits (the first mappings of /proc/self/smaps, not all of them).
 */
export function readHead(path: string, bytes: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const b = Buffer.allocUnsafe(bytes);
    return b.toString('utf8', 0, fs.readSync(fd, b, 0, bytes, null));
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Read a file whose absence or denial is an error of the host (e.g. /proc/meminfo). */
export function readRequired(path: string): string {
  const r = readText(path, false);
  if (r.ok) return r.text;
  const why = r.failure.kind === 'denied' ? 'permission denied' : 'no such file';
  throw new ProcsleuthError('IO', `cannot read ${path}: ${why}`);
}

/** Read an optional host file: undefined when absent or denied. */
export function readOptional(path: string): string | undefined {
  const r = readText(path, false);
  return r.ok ? r.text : undefined;
}

export type LinkResult = { ok: true; target: string } | { ok: false; failure: ReadFailure };

export function readLink(path: string, underPid = true): LinkResult {
  try {
    return { ok: true, target: fs.readlinkSync(path) };
  } catch (err) {
    return { ok: false, failure: classify(err, path, underPid) };
  }
}

export type DirResult = { ok: true; names: string[] } | { ok: false; failure: ReadFailure };

export function readDir(path: string, underPid = true): DirResult {
  try {
    return { ok: true, names: fs.readdirSync(path) };
  } catch (err) {
    return { ok: false, failure: classify(err, path, underPid) };
  }
}

const PROC_SUPER_MAGIC = 0x9fa0;
const procfsCache = new Map<string, boolean>();

/** Whether a root is a live procfs (some tricks, like fd-dir sizes, only hold there). */
export function isLiveProcfs(root: string): boolean {
  let v = procfsCache.get(root);
  if (v === undefined) {
    try {
      v = fs.statfsSync(root).type === PROC_SUPER_MAGIC;
    } catch {
      v = false;
    }
    procfsCache.set(root, v);
  }
  return v;
}

export type Read<T> = { ok: true; value: T } | { ok: false; failure: ReadFailure };

/** Read and parse; a ParseError is re-thrown carrying the path. */
export function readParsed<T>(path: string, underPid: boolean, parse: (text: string) => T): Read<T> {
  const r = readText(path, underPid);
  if (!r.ok) return r;
  return { ok: true, value: parseWithPath(path, r.text, parse) };
}

export function parseWithPath<T>(path: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof ParseError) throw err.withPath(path);
    throw err;
  }
}
