import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import spec from '../../generated/openapi.bundle.json';
import type { components } from '../../generated/openapi';

type SchemaName = keyof components['schemas'];

let ajv: Ajv2020 | undefined;

/**
 * Checks a value against a schema of the contract, for input that does not arrive over HTTP
 * (command-line tools, seeds). Returns the problems as `field: message` lines, empty when valid.
 */
export function checkAgainst(name: SchemaName, value: unknown): string[] {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addSchema({ ...spec, $id: 'contract' }, 'contract');
  }
  const validate = ajv.getSchema(`contract#/components/schemas/${name}`)!;
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'value'}: ${e.message}`);
}
