/** Terminal formatting: tables, sizes, colour only on a TTY and never with NO_COLOR. */

export function humanBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
}

export function fixed(n: number | undefined, digits = 1): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

export function int(n: number | undefined): string {
  return n === undefined ? '-' : String(n);
}

export type Align = 'left' | 'right';

/** A plain text table; columns are right-aligned unless told otherwise; the last column may overflow. */
export function table(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const last = i === cells.length - 1;
        const a = align[i] ?? 'right';
        if (last && a === 'left') return c;
        return a === 'left' ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export interface Colours {
  bold(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  cyan(s: string): string;
}

export function colours(enabled: boolean): Colours {
  const wrap =
    (open: number, close: number) =>
    (s: string): string =>
      enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    dim: wrap(2, 22),
    cyan: wrap(36, 39),
  };
}

export function useColour(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return isTTY;
}

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s;
}
