/**
 * Imports go one way (DESIGN.md, "Layers"). This test reads every import in src/ and fails on one
 * that goes against the table below, naming the file and the import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

// Who may import whom. `report` also reads collect's types (a snapshot is what it renders).
const allowed: Record<string, string[]> = {
  util: [],
  procfs: ['util'],
  collect: ['procfs', 'util'],
  trace: ['procfs', 'collect', 'util'],
  rules: ['collect', 'trace', 'detect', 'util'],
  detect: ['util'],
  store: ['collect', 'util'],
  record: ['collect', 'store', 'procfs', 'util'],
  report: ['rules', 'detect', 'store', 'collect', 'trace', 'util'],
  server: ['report', 'store', 'collect', 'rules', 'detect', 'util'],
  // fleet analysis: the detectors on series fetched from Prometheus; renders with report's helpers
  fleet: ['detect', 'report', 'util'],
  cli: Object.keys({
    util: 1,
    procfs: 1,
    collect: 1,
    trace: 1,
    rules: 1,
    detect: 1,
    store: 1,
    record: 1,
    report: 1,
    server: 1,
    fleet: 1,
  }),
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('layering', () => {
  it('every import in src/ goes the allowed way', () => {
    const violations: string[] = [];
    for (const file of walk(SRC)) {
      const layer = relative(SRC, file).split('/')[0] ?? '';
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
        const target = relative(SRC, resolve(dirname(file), m[1] ?? ''));
        const to = target.split('/')[0] ?? '';
        if (to === layer || to.startsWith('..')) continue;
        if (!(allowed[layer] ?? []).includes(to))
          violations.push(`${relative(SRC, file)} imports ${m[1]} (${layer} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('knows every folder under src/', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.filter((f) => !(f in allowed))).toEqual([]);
  });
});
