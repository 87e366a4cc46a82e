/**
 * Small /proc trees for tests: a copy of a captured fixture (test/fixtures/proc/<name>/) with edits
 * applied — a file's text replaced or rewritten, files removed, modes changed, symlinks made — or a
 * tree built from nothing out of a map of path → text. Each tree is a fresh directory under
 * os.tmpdir(), readable by every user (so a test can read it as `nobody`), removed by `remove()`,
 * by `removeProcTrees()`, or at the latest when the process exits.
 *
 *   const t = procTree({ from: 'busy-cluster', write: { meminfo: (s) => replaceLine(s, 3, () => 'x') } });
 *   await runCli(['snapshot', '--proc-root', t.root]);
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ToolReading } from '../../scripts/capture-proc.js';

export const FIXTURE_DIR = resolve(import.meta.dirname, '../fixtures/proc');

export interface ProcTreeSpec {
  /** A fixture name under test/fixtures/proc/, or a directory to copy. Omitted: an empty tree. */
  from?: string;
  /** Path in the tree → its new text, or a function of its old text. Parents are created. */
  write?: Record<string, string | Buffer | ((old: string) => string)>;
  /** Path in the tree → symlink target (fd/N, exe): the link text, which need not exist. */
  link?: Record<string, string>;
  /** Files or directories to delete (applied before `write` and `link`). */
  remove?: string[];
  /** Path in the tree → mode, applied last (0 makes a file unreadable to anyone but root). */
  chmod?: Record<string, number>;
}

export interface ProcTree {
  root: string;
  /** Absolute path of a path in the tree. */
  path(rel: string): string;
  read(rel: string): string;
  remove(): void;
}

const made = new Set<string>();
let hooked = false;

export function fixturePath(name: string): string {
  return isAbsolute(name) ? name : join(FIXTURE_DIR, name);
}

export function procTree(spec: ProcTreeSpec = {}): ProcTree {
  const root = fs.mkdtempSync(join(tmpdir(), 'procsleuth-tree-'));
  made.add(root);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeProcTrees);
  }
  if (spec.from !== undefined) {
    const src = fixturePath(spec.from);
    if (!fs.existsSync(src)) throw new Error(`procTree: no fixture tree at ${src}`);
    // verbatimSymlinks: fd/N and exe keep their link text (`socket:[123]`), not a resolved path
    fs.cpSync(src, root, { recursive: true, verbatimSymlinks: true });
  }
  const path = (rel: string): string => {
    const p = resolve(root, rel);
    if (p !== root && !p.startsWith(root + '/')) throw new Error(`procTree: ${rel} is outside the tree`);
    return p;
  };
  for (const rel of spec.remove ?? []) {
    if (!fs.existsSync(path(rel)) && !isLink(path(rel)))
      throw new Error(`procTree: nothing to remove at ${rel}`);
    fs.rmSync(path(rel), { recursive: true, force: true });
  }
  for (const [rel, v] of Object.entries(spec.write ?? {})) {
    const p = path(rel);
    fs.mkdirSync(dirname(p), { recursive: true });
    if (typeof v === 'function') {
      if (!fs.existsSync(p)) throw new Error(`procTree: cannot rewrite ${rel}: it does not exist`);
      fs.writeFileSync(p, v(fs.readFileSync(p, 'utf8')));
    } else fs.writeFileSync(p, v);
  }
  for (const [rel, target] of Object.entries(spec.link ?? {})) {
    const p = path(rel);
    fs.mkdirSync(dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.symlinkSync(target, p);
  }
  // mkdtemp makes 0700: open the tree to everyone, so an unprivileged reader sees only what chmod hides
  openUp(root);
  for (const [rel, mode] of Object.entries(spec.chmod ?? {})) fs.chmodSync(path(rel), mode);
  return {
    root,
    path,
    read: (rel) => fs.readFileSync(path(rel), 'utf8'),
    remove: () => {
      made.delete(root);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export function removeProcTrees(): void {
  for (const r of made) fs.rmSync(r, { recursive: true, force: true });
  made.clear();
}

/** Replaces line `n` (1-based) of `text` with `f(old line)`; throws if there is no such line. */
export function replaceLine(text: string, n: number, f: (line: string) => string): string {
  const lines = text.split('\n');
  const old = lines[n - 1];
  if (old === undefined) throw new Error(`replaceLine: no line ${n} (text has ${lines.length})`);
  lines[n - 1] = f(old);
  return lines.join('\n');
}

/** Replaces the first line matching `re` with `f(line)`; throws if none does. */
export function replaceMatching(text: string, re: RegExp, f: (line: string) => string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`replaceMatching: no line matches ${String(re)}`);
  return replaceLine(text, i + 1, f);
}

/** The JSON written beside a captured tree by scripts/capture-proc.ts. */
export interface Capture {
  capturedAt: string;
  command: string;
  sanitised: boolean;
  hostname: string;
  scene: Record<string, unknown> | undefined;
  pids: number[];
  vanished: number[];
  omitted: { path: string; reason: string }[];
  unstable: string[];
  tools: ToolReading;
}

export function readCapture(name: string): Capture {
  return JSON.parse(fs.readFileSync(`${fixturePath(name)}.json`, 'utf8')) as Capture;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function openUp(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else if (e.isFile()) fs.chmodSync(p, 0o644);
  }
}
