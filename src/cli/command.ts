import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../util/errors.js';
import { defaultRoots, type Roots } from '../util/roots.js';

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

export const commonOptions = {
  json: { type: 'boolean' },
  'proc-root': { type: 'string' },
  'sys-root': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** parseArgs with our usage errors: the message names the bad option. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export function rootsFrom(
  values: { 'proc-root'?: string | undefined; 'sys-root'?: string | undefined },
  env: NodeJS.ProcessEnv,
): Roots {
  const d = defaultRoots(env);
  return { proc: values['proc-root'] ?? d.proc, sys: values['sys-root'] ?? d.sys };
}

export function intOption(value: string | undefined, name: string, dflt: number, min = 0): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`--${name} wants a whole number ≥ ${min}, got "${value}"`);
  return Number(value);
}

export function pidArg(value: string | undefined, what = 'PID'): number {
  if (value === undefined) throw new UsageError(`missing ${what}`);
  if (!/^[1-9]\d{0,9}$/.test(value))
    throw new UsageError(`${what} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** Durations like 500ms, 5s, 2m, 1h, 14d (a bare number is seconds). */
export function durationMs(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--${name} wants a duration like 500ms, 5s, 2m, 1h or 14d, got "${value}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return n * unit;
}

export function printJson(io: CliIO, doc: unknown): void {
  io.out(JSON.stringify(doc, null, 2) + '\n');
}

/** procsleuth's version, from package.json (two levels up from dist/cli/ and dist/bundle/ alike). */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
