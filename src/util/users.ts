/** uid → user name from /etc/passwd, read once. Unknown uids stay undefined (no NSS lookups: no spawning). */
import { readOptional } from './proc-io.js';

let cache: Map<number, string> | undefined;

export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = Number(f[2]);
    if (f[0] && Number.isInteger(uid) && !m.has(uid)) m.set(uid, f[0]);
  }
  return m;
}

export function userName(uid: number | undefined, passwdPath = '/etc/passwd'): string | undefined {
  if (uid === undefined) return undefined;
  cache ??= parsePasswd(readOptional(passwdPath) ?? '');
  return cache.get(uid);
}
