import spec from '../../generated/openapi.bundle.json';
import { operationIndex, type OperationId } from '../../generated/operations';

/**
 * A valid request for any operation, built from the contract: its path with every parameter filled
 * in, its required query and header parameters, and the first example of its request body's schema
 * (each request schema carries one). Tests that call every operation (the database faults sweep)
 * start from these and override what must be real (a refresh token, a signature, a fresh username).
 */
export interface SampleRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The JSON body, when the operation takes one; for a `multipart/form-data` operation, the encoded form (a string). */
  body?: unknown;
}

type Json = Record<string, any>;
const doc = spec as unknown as Json;
function deref(node: unknown): Json {
  let cur = node as Json | undefined;
  while (cur && typeof cur.$ref === 'string') {
    cur = (cur.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json | undefined>((acc, key) => acc?.[key.replace(/~1/g, '/').replace(/~0/g, '~')] as Json | undefined, doc);
  }
  return cur ?? {};
}

/** The contract's example for a parameter or schema, or a value of its type. */
function sampleOf(parameter: Json): string {
  const schema = deref(parameter.schema);
  const example = parameter.example ?? schema.examples?.[0] ?? schema.example ?? schema.default ?? schema.enum?.[0];
  if (example !== undefined) return Array.isArray(example) ? String(example[0]) : String(example);
  if (schema.type === 'integer' || schema.type === 'number') return String(Math.max(1, schema.minimum ?? 1));
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000001';
  return 'sample';
}

function operation(id: OperationId): Json {
  const { method, path } = operationIndex[id];
  return deref(deref((doc.paths as Json)[path])[method]);
}

export function sampleRequest(id: OperationId): SampleRequest {
  const { method, path } = operationIndex[id];
  const op = operation(id);
  const pathItem = deref((doc.paths as Json)[path]);
  const parameters = [...((pathItem.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map(deref);
  let url: string = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const p of parameters) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(sampleOf(p)));
    else if (p.in === 'query' && p.required) query.set(p.name as string, sampleOf(p));
    else if (p.in === 'header' && p.required) headers[(p.name as string).toLowerCase()] = sampleOf(p);
  }
  const request: SampleRequest = { method: method.toUpperCase(), path: query.size ? `${url}?${query}` : url, headers };
  const multipart = deref(deref(op.requestBody).content?.['multipart/form-data']?.schema);
  if (op.requestBody && !deref(op.requestBody).content?.['application/json'] && multipart.properties) {
    // Each field of the schema's example as a form part; a binary one as a file (its example text as the content).
    const example = (multipart.examples?.[0] ?? {}) as Record<string, unknown>;
    const boundary = 'sample-form-7f1c0e8e';
    const parts = Object.entries(example).map(([name, value]) => {
      const file = deref(multipart.properties[name]).format === 'binary' ? `; filename="${name}.bin"\r\nContent-Type: application/octet-stream` : '';
      return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}\r\n\r\n${String(value)}\r\n`;
    });
    request.body = `${parts.join('')}--${boundary}--\r\n`;
    request.headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    return request;
  }
  // A file sent as the raw body (a catalog import's CSV): the first media type's example text.
  const [rawType, rawMedia] = Object.entries((deref(op.requestBody).content ?? {}) as Json)[0] ?? [];
  if (op.requestBody && rawType && rawType !== 'application/json' && rawType !== 'multipart/form-data') {
    const example = deref(rawMedia.schema).examples?.[0];
    if (typeof example !== 'string') throw new Error(`${id}: its ${rawType} body schema has no example text to build a sample request from`);
    request.body = example;
    request.headers['content-type'] = rawType;
    return request;
  }
  if (op.requestBody) {
    const schema = deref(deref(op.requestBody).content?.['application/json']?.schema);
    const body = schema.examples?.[0] ?? schema.example;
    if (body === undefined) throw new Error(`${id}: its request body schema has no example to build a sample request from`);
    request.body = body;
    request.headers['content-type'] = 'application/json';
  }
  return request;
}
