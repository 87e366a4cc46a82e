/**
 * The vendor bundle: a .tar.gz written with node's zlib and a minimal ustar writer (no tar binary, no
 * dependency). Files are regular files with mode 0644 under one top directory, times set to the bundle's
 * creation. Every text file passes through the redactor unless the caller turned redaction off; the
 * caller builds the content from redacted documents as well, so this is the second net, not the first.
 */
import { gzipSync } from 'node:zlib';
import { redactText } from './redact.js';

export interface BundleFile {
  /** Path inside the bundle, relative, '/'-separated. */
  path: string;
  content: string | Buffer;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtimeS: number, type: '0' | '5' = '0'): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  let prefix = '';
  let base = name;
  // ustar splits long names at a '/' into a 155-byte prefix and a 100-byte name.
  if (Buffer.byteLength(base) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1 - 0);
    let i = cut;
    while (i > 0 && (Buffer.byteLength(name.slice(i + 1)) > 100 || Buffer.byteLength(name.slice(0, i)) > 155))
      i = name.lastIndexOf('/', i - 1);
    if (i <= 0) throw new Error(`path too long for a tar header: ${name}`);
    prefix = name.slice(0, i);
    base = name.slice(i + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtimeS), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A tar archive of the files under `top/`. */
export function tar(top: string, files: readonly BundleFile[], mtimeMs = Date.now()): Buffer {
  const parts: Buffer[] = [];
  const mt = mtimeMs / 1000;
  const dirs = new Set<string>();
  const addDir = (d: string): void => {
    if (dirs.has(d)) return;
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    if (parent) addDir(parent);
    dirs.add(d);
    parts.push(header(`${d}/`, 0, mt, '5'));
  };
  addDir(top);
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').includes('..'))
      throw new Error(`unsafe bundle path ${f.path}`);
    const full = `${top}/${f.path}`;
    addDir(full.slice(0, full.lastIndexOf('/')));
    const body = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    parts.push(header(full, body.length, mt), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export interface BundleOptions {
  top: string;
  redact: boolean;
  mtimeMs?: number;
}

/** The gzipped bundle; text content is redacted line by line when `redact` is on. */
export function buildBundle(files: readonly BundleFile[], o: BundleOptions): Buffer {
  const out = files.map((f) =>
    o.redact && typeof f.content === 'string' ? { path: f.path, content: redactLines(f.content) } : f,
  );
  return gzipSync(tar(o.top, out, o.mtimeMs), { level: 9 });
}

function redactLines(s: string): string {
  // Line by line: the patterns stop at line ends anyway, and a 100 MB file never becomes one huge regex run.
  return s
    .split('\n')
    .map((l) => redactText(l))
    .join('\n');
}

/** CSV quoting for the series files. */
export function csvCell(s: string | number | null | undefined): string {
  if (s === null || s === undefined) return '';
  const t = String(s);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}
