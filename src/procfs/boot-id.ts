/**
 * /proc/sys/kernel/random/boot_id — random(4).
 *
 *   6a68c77a-d17a-4df8-8544-24148ed63c7e
 *
 * A UUID chosen at each boot: stored samples carry it so a PID or a counter from one boot is never
 * compared with one from another (DESIGN.md, convention 5).
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export function parseBootId(text: string): string {
  const id = text.trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new ParseError('boot_id is not a UUID', { line: 1, token: id });
  }
  return id;
}

export function readBootId(procRoot: string): string {
  const path = `${procRoot}/sys/kernel/random/boot_id`;
  return parseWithPath(path, readRequired(path), parseBootId);
}
