import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import spec from '../../generated/openapi.bundle.json';
import type { components } from '../../generated/openapi';
import { strictFormats } from './formats';

type SchemaName = keyof components['schemas'];

let ajv: Ajv2020 | undefined;

/**
 * Checks a value against a schema of the contract, for input that does not arrive over HTTP
 * (command-line tools, seeds). Returns the problems as `field: message` lines, empty when valid.
 */
export function checkAgainst(name: SchemaName, value: unknown): string[] {
  return issuesAgainst(`/components/schemas/${name}`, value).map((i) => `${i.field || 'value'}: ${i.message}`);
}

/**
 * The problems of a value against any schema of the contract, by JSON pointer
 * (`/components/schemas/CartAdd`, `/components/parameters/MinPrice/schema`), as `{ field, message }`
 * with dotted fields under `prefix`. GraphQL checks its arguments with this: the same rules as REST.
 */
export function issuesAgainst(pointer: string, value: unknown, prefix = ''): { field: string; message: string }[] {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    // The same calendar-exact dates as the REST validator (src/http/formats.ts).
    for (const [name, format] of Object.entries(strictFormats)) ajv.addFormat(name, format);
    ajv.addSchema({ ...spec, $id: 'contract' }, 'contract');
  }
  const validate = ajv.getSchema(`contract#${pointer}`);
  if (!validate) throw new Error(`No schema at ${pointer} in the contract`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const field = [prefix, path].filter(Boolean).join('.');
    const message = e.keyword === 'additionalProperties' ? `must not have ${String(e.params.additionalProperty)}` : (e.message ?? 'is invalid');
    return { field, message };
  });
}
