import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import spec from '../../../generated/openapi.bundle.json';
import { operationIndex } from '../../../generated/operations';
import { handlers } from '../../../src/handlers';
import { DomainError } from '../../../src/shared/errors';
import { startApp, type TestApp } from '../../support/app';

/**
 * The safety nets that keep answers on contract under test: a body that breaks its schema, or an
 * error status the operation does not declare, becomes a loud 500 instead of reaching a client.
 */
describe('contract enforcement', () => {
  let app: TestApp;
  afterEach(() => app?.close());

  it('turns a response body that breaks its schema into 500 RESPONSE_CONTRACT_VIOLATION', async () => {
    app = await startApp({}, { ...handlers, getHealth: async () => ({ status: 200, body: { status: 'broken' as 'ok' } }) });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('RESPONSE_CONTRACT_VIOLATION');
  });

  it('turns an error status the operation does not declare into 500 UNDECLARED_RESPONSE', async () => {
    app = await startApp({}, {
      ...handlers,
      getHealth: async () => {
        throw new DomainError('conflict', 'SURPRISE', 'Not in the contract.');
      },
    });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('UNDECLARED_RESPONSE');
  });

  it('routes every operation of the contract, and nothing else under /api/', async () => {
    app = await startApp();
    for (const op of Object.values(operationIndex)) {
      const path = op.path.replace(/\{[^}]+\}/g, '1');
      const res = await fetch(`${app.baseUrl}${path}`, {
        method: op.method.toUpperCase(),
        headers: { 'content-type': 'application/json' },
        body: op.method === 'get' || op.method === 'delete' ? undefined : '{}',
      });
      // Whatever the answer (400, 401...), it is not "no such route".
      expect([404, 405].includes(res.status) && ((await res.json()) as { detail: string }).detail === 'No such resource or route.').toBe(false);
    }
  });
});

describe('response validation', () => {
  let app: TestApp;
  afterAll(() => app.close());

  it('refuses a body with a field the schema does not have (the type checker cannot see spread extras)', async () => {
    app = await startApp({}, {
      ...handlers,
      getHealth: async () => {
        const extra = { status: 'ok' as const, debug: 'internal detail' };
        return { status: 200, body: extra };
      },
    });
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { code: string };
    expect(body.code).toBe('RESPONSE_CONTRACT_VIOLATION');
    expect(JSON.stringify(body)).not.toContain('internal detail');
  });
});

describe('answers that belong to no operation', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('answers a method the path does not have with 405 METHOD_NOT_ALLOWED, as the contract describes', async () => {
    const res = await fetch(`${app.baseUrl}/api/product/1/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('allow')).toMatch(/GET/);
    expect(await res.json()).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
  });
});

describe('the examples of the contract', () => {
  type Json = Record<string, any>;
  const doc = spec as unknown as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'contract');
  const segment = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  /** Follows $refs; returns the node and its JSON pointer in the bundle (where its own references resolve). */
  const locate = (node: Json, pointer: string): [Json, string] => {
    let cur = node;
    let at = pointer;
    while (cur && typeof cur.$ref === 'string') {
      at = cur.$ref.replace(/^#/, '');
      cur = at.split('/').slice(1).reduce((acc: Json, k: string) => acc[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return [cur, at];
  };
  const isJson = (type: string) => /^application\/(.+\+)?json$/.test(type);
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

  /** [where, the JSON pointer of the schema, the example]: every example the contract shows. */
  const examples: [string, string, unknown][] = [];
  const errorResponses: [string, string[], string[]][] = [];
  /** [operation status type, how many examples]: every JSON response body (success or problem), which Swagger UI must not fill in itself. */
  const responseBodies: [string, number][] = [];
  /** [operation request type, whether an example shows]: every JSON request body. */
  const requestBodies: [string, boolean][] = [];
  for (const [path, rawItem] of Object.entries<Json>(doc.paths)) {
    const [item, itemAt] = locate(rawItem, `/paths/${segment(path)}`);
    for (const method of METHODS.filter((m) => item[m])) {
      const op: Json = item[method];
      const opAt = `${itemAt}/${method}`;
      // [status (or "request"), media type, the media object, its JSON pointer]
      const bodies: [string, string, Json, string][] = [];
      for (const [status, raw] of Object.entries<Json>(op.responses ?? {})) {
        const [response, at] = locate(raw, `${opAt}/responses/${segment(status)}`);
        for (const [type, media] of Object.entries<Json>(response.content ?? {})) bodies.push([status, type, media, `${at}/content/${segment(type)}`]);
      }
      const [requestBody, requestAt] = locate(op.requestBody ?? {}, `${opAt}/requestBody`);
      for (const [type, media] of Object.entries<Json>(requestBody.content ?? {})) bodies.push(['request', type, media, `${requestAt}/content/${segment(type)}`]);
      for (const [status, type, media, mediaAt] of bodies) {
        const where = `${op.operationId} ${status} ${type}`;
        const [schema, schemaAt] = locate(media.schema ?? {}, `${mediaAt}/schema`);
        const named: [string, unknown][] = Object.entries<Json>(media.examples ?? {}).map(([name, ex]) => [`${where} ${name}`, locate(ex, '')[0].value]);
        if (media.example !== undefined) named.push([where, media.example]);
        for (const [name, value] of named) examples.push([name, schemaAt, value]);
        if (isJson(type) && status !== 'request') responseBodies.push([where, named.length]);
        if (isJson(type) && status === 'request') requestBodies.push([where, named.length > 0 || (schema.examples ?? []).length > 0]);
        // A problem's `code`: a named enum of the codes it can carry, or one `const`.
        const code: Json | undefined = schema?.properties?.code ? locate(schema.properties.code, '')[0] : undefined;
        const codes: string[] | undefined = code?.enum ?? (code?.const !== undefined ? [code.const] : undefined);
        if (codes && status !== 'request') errorResponses.push([`${op.operationId} ${status}`, codes, named.map(([, v]) => (v as { code: string }).code)]);
      }
    }
  }
  // The examples of the named schemas too (request bodies show these when they have no example of their own).
  for (const [name, schema] of Object.entries<Json>(doc.components?.schemas ?? {})) {
    for (const [i, value] of (schema.examples ?? []).entries()) examples.push([`schema ${name} examples[${i}]`, `/components/schemas/${segment(name)}`, value]);
  }

  it('covers the contract (the lists below are not empty)', () => {
    expect(responseBodies.filter(([where]) => / 2\d\d /.test(where)).length).toBeGreaterThan(50);
    expect(requestBodies.length).toBeGreaterThan(20);
    expect(examples.length).toBeGreaterThan(responseBodies.length);
  });

  it.each(examples)('%s conforms to its schema', (_name, pointer, value) => {
    // Checked in the contract, by pointer, so the schema's own references resolve.
    const validate = ajv.compile({ $ref: `contract#${pointer}` });
    expect(validate(value) ? [] : validate.errors).toEqual([]);
  });

  // Without an example Swagger UI makes one up from the schema: "id": 2147483647, "string".
  it.each(responseBodies)('%s shows at least one example', (_where, count) => {
    expect(count).toBeGreaterThan(0);
  });

  it.each(requestBodies)('%s shows an example', (_where, shown) => {
    expect(shown).toBe(true);
  });

  it('shows no made-up placeholder values (int32 max, "string") in any example', () => {
    const placeholders = examples.filter(([, , value]) => /(?<![\d.])2147483647(?![\d.])|"string"/.test(JSON.stringify(value))).map(([name]) => name);
    expect(placeholders).toEqual([]);
  });

  it.each(errorResponses)('%s shows an example of each code it lists, and of no other', (_where, codes, shown) => {
    expect([...shown].sort()).toEqual([...codes].sort());
  });
});
