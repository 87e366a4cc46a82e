/**
 * Secrets out of command lines and environments before anything leaves the machine (the HTML report,
 * the vendor bundle, the dashboard's API). Three levels, because a secret hides differently in each:
 * - `redactText(s)`: one string (a joined command line, an `env` line, a finding's summary):
 *   `--password=…`, `--password …`, `token=…` (also in URL query strings), `Authorization: …`,
 *   `Bearer …`, `scheme://user:pass@host`, AWS access key ids (AKIA…, ASIA…).
 * - `redactArgv(argv)`: an argument vector, where the secret may be the element AFTER `--password`.
 * - `redactDeep(doc)`: any JSON-like value: every string, every string array (as an argv), and the
 *   value of every key that names a secret (an environment object).
 * Over-redaction is cheap (a support engineer asks again); a leaked password is not.
 */

export const REDACTED = '[redacted]';

/** Words that make an option, a variable or a query parameter a secret. */
const SECRET_WORD =
  '(?:pass(?:word|wd|phrase)?(?![a-z])|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|ssh[_-]?key|credentials?|cookie|session[_-]?id)';
const NAME_CHARS = '[A-Za-z0-9_.-]';

/** A name that is a secret's name, not a pointer to it: `--password-file /run/x` shows nothing. */
function namesSecret(name: string): boolean {
  if (!new RegExp(SECRET_WORD, 'i').test(name)) return false;
  // The working directory, not a password.
  if (/^(OLD)?PWD$/i.test(name)) return false;
  return !/[_.-](?:file|path|dir|length|len|min|max|ttl|timeout)$/i.test(name);
}

// name=value / name: value. Only the name and separator are matched by the regex, so a name that is no
// secret (`https:`, `host:`) does not swallow a value that holds one (`//h/x?token=…`). A name starts
// only where the previous character cannot be part of one: without that lookbehind every position of a
// long word would start a new scan (quadratic on a 200 kB argument).
const NAME_SEP = new RegExp(`(?<!${NAME_CHARS})(${NAME_CHARS}+)(\\s*[=:]\\s*)`, 'g');
const VALUE = /"[^"]*"|'[^']*'|[^\s&;,"']+/y;

function redactAssignments(s: string): string {
  let out = '';
  let last = 0;
  const re = new RegExp(NAME_SEP.source, 'g');
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (!namesSecret(m[1] ?? '')) continue;
    const at = m.index + m[0].length;
    VALUE.lastIndex = at;
    const v = VALUE.exec(s);
    if (!v || v[0] === REDACTED) continue;
    out += s.slice(last, at) + REDACTED;
    last = at + v[0].length;
    re.lastIndex = last;
  }
  return out + s.slice(last);
}
// --password value (joined command lines; the value must not itself look like an option).
const OPTION_SPACE = new RegExp(`(^|\\s)(--?${NAME_CHARS}+)(\\s+)(?!-)(\\S+)`, 'g');
const AUTH_HEADER =
  /\b((?:proxy-)?authorization|x-api-key|x-auth-token|x-amz-security-token)(\s*[:=]\s*)(?:(bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?("[^"]*"|'[^']*'|[^\s"']+)/gi;
const BEARER = /\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):([^\s/@]+)@/gi;
const AWS_KEY_ID = /\b(AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b/g;

export function redactText(s: string): string {
  if (s === '') return s;
  let out = s.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  out = out.replace(AUTH_HEADER, (_m, name: string, sep: string, scheme: string | undefined) =>
    scheme ? `${name}${sep}${scheme} ${REDACTED}` : `${name}${sep}${REDACTED}`,
  );
  out = out.replace(BEARER, (m, scheme: string, sp: string, value: string) =>
    value === REDACTED ? m : `${scheme}${sp}${REDACTED}`,
  );
  out = redactAssignments(out);
  out = out.replace(OPTION_SPACE, (m, pre: string, name: string, sp: string, value: string) =>
    namesSecret(name) && value !== REDACTED && !value.startsWith('[redacted')
      ? `${pre}${name}${sp}${REDACTED}`
      : m,
  );
  out = out.replace(AWS_KEY_ID, `$1${REDACTED}`);
  return out;
}

const FLAG_ALONE = new RegExp(`^--?(${NAME_CHARS}*${SECRET_WORD}${NAME_CHARS}*)$`, 'i');
const HEADER_FLAG = /^(-H|--header|--proxy-header)$/;

/** An argument vector: each element as text, and the element after a bare `--password` as a whole. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    out.push(redactText(a));
    const m = FLAG_ALONE.exec(a);
    const next = argv[i + 1];
    if (next === undefined) continue;
    if (
      (m && namesSecret(m[1] ?? '')) ||
      (HEADER_FLAG.test(a) && /^\s*(proxy-)?authorization\s*:/i.test(next))
    ) {
      // The header case keeps its name so the reader still sees what was sent.
      out.push(HEADER_FLAG.test(a) ? redactText(next) : REDACTED);
      i++;
    }
  }
  return out;
}

/** `NAME=value` lines of an environment (/proc/PID/environ split on NUL). */
export function redactEnv(entries: readonly string[]): string[] {
  return entries.map((e) => {
    const eq = e.indexOf('=');
    if (eq <= 0) return redactText(e);
    const name = e.slice(0, eq);
    return namesSecret(name) ? `${name}=${REDACTED}` : `${name}=${redactText(e.slice(eq + 1))}`;
  });
}

/**
 * Every string in a JSON-like value. A string array is an argv (the value after `--password` goes too);
 * a string under a key that names a secret is dropped whole. Returns a copy; typed arrays and other
 * non-plain objects are returned as they are (they hold numbers).
 */
export function redactDeep<T>(value: T): T {
  return deep(value, undefined) as T;
}

function deep(v: unknown, key: string | undefined): unknown {
  if (typeof v === 'string') return key !== undefined && namesSecret(key) ? REDACTED : redactText(v);
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => typeof x === 'string')) return redactArgv(v as string[]);
    return v.map((x) => deep(x, undefined));
  }
  if (v !== null && typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = deep(x, k);
    return out;
  }
  return v;
}
