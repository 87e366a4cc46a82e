/**
 * Error classes with stable codes. Only src/cli/ turns them into messages and exit codes;
 * everything below throws these (wrapping the original with `{ cause }`).
 */

export type ErrorCode =
  | 'PARSE'
  | 'IO'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'TRACER_NOT_INSTALLED'
  | 'TRACER_NOT_PERMITTED'
  | 'TRACER_FAILED'
  | 'SPAWN_TIMEOUT'
  | 'STORE'
  | 'STORE_LOCKED'
  | 'STORE_NEWER_SCHEMA'
  | 'STORE_CORRUPT'
  | 'DISK_FULL'
  | 'INPUT';

export class ProcsleuthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where in which file a parser gave up, and on what. */
export interface ParseLocation {
  path?: string;
  line?: number;
  token?: string;
}

export class ParseError extends ProcsleuthError {
  readonly path: string | undefined;
  readonly line: number | undefined;
  readonly token: string | undefined;
  constructor(reason: string, where: ParseLocation = {}, options?: { cause?: unknown }) {
    const parts = [where.path ?? '<text>'];
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    const at = parts.join(':');
    const tok = where.token !== undefined ? ` near ${JSON.stringify(truncate(where.token, 80))}` : '';
    super('PARSE', `${at}: ${reason}${tok}`, options);
    this.path = where.path;
    this.line = where.line;
    this.token = where.token;
  }

  /** Parsers are pure and do not know their path; readers re-throw with it. */
  withPath(path: string): ParseError {
    if (this.path !== undefined) return this;
    const bare = this.message.replace(/^<text>(:line \d+)?: /, '');
    const reason = this.token !== undefined ? bare.replace(/ near ".*"$/s, '') : bare;
    return new ParseError(reason, { path, line: this.line, token: this.token }, { cause: this.cause });
  }
}

export class UsageError extends ProcsleuthError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}
