/**
 * Validates our JSON documents against the schemas in schema/ (the output contract). Every schema is
 * loaded into the one Ajv instance on first use, under its file name (`snapshot`) and its `$id`
 * (`procsleuth.snapshot/1`), so a schema may refer to another by `$id`: from `procsleuth.triage/1`,
 * `../procsleuth.snapshot/1#/properties/host` (an `$id` is a relative URI, resolved against the
 * referring schema's own).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';

const SCHEMA_DIR = resolve(import.meta.dirname, '../../schema');
const SUFFIX = '.schema.json';

let ajv: Ajv | undefined;

function loaded(): Ajv {
  if (ajv) return ajv;
  const a = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .sort()) {
    const schema = JSON.parse(readFileSync(resolve(SCHEMA_DIR, file), 'utf8')) as object;
    a.addSchema(schema, file.slice(0, -SUFFIX.length));
  }
  ajv = a;
  return a;
}

export function validate(name: string, doc: unknown): string[] {
  const v = loaded().getSchema(name);
  if (!v) throw new Error(`no schema ${name}`);
  return v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
