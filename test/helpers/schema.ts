/** Validates our JSON documents against the schemas in schema/ (the output contract). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

export function validate(name: string, doc: unknown): string[] {
  const schema = JSON.parse(
    readFileSync(resolve(import.meta.dirname, `../../schema/${name}.schema.json`), 'utf8'),
  ) as object;
  const v = ajv.getSchema(name) ?? (ajv.addSchema(schema, name), ajv.getSchema(name));
  if (!v) throw new Error(`no schema ${name}`);
  return v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
