import jwt from 'jsonwebtoken';
import { operationIndex, type OperationId } from '../../../generated/operations';
import { declaredCodes, operationsWithBody } from '../../../src/http/problem';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';
import { actor, type Actor } from '../../support/factories';
import { rawRequest } from '../../support/raw-http';
import { sampleRequest } from '../../support/sample-requests';

/**
 * The codes every operation declares because of the layers in front of its handler (host check,
 * rate limit, body parsing, the contract's validation, authentication), raised on every operation
 * that declares them: the sweep behind the error-code coverage check (test/support/error-coverage.ts).
 * The strict problem handler under test turns any code an operation does not list into a 500, so each
 * answer here is also checked against the operation's enum.
 */
type Meta = (typeof operationIndex)[OperationId];
const operations = Object.entries(operationIndex) as [OperationId, Meta][];
const pathOf = (op: Meta, query = '') => op.path.replace(/\{[^}]+\}/g, '1') + query;
const declares = (id: OperationId, status: number, code: string) => declaredCodes.get(id)?.get(status)?.includes(code) ?? false;
const having = (status: number, code: string) => operations.filter(([id]) => declares(id, status, code));

async function sweep(app: TestApp, status: number, code: string, request: (id: OperationId, op: Meta) => { headers?: Record<string, string>; body?: string; query?: string }) {
  const targets = having(status, code);
  expect(targets.length).toBeGreaterThan(0);
  const answers: string[] = [];
  for (const [id, op] of targets) {
    const { headers = {}, body, query = '' } = request(id, op);
    // Node sends no Content-Length with a GET or DELETE body unless told: the body would read as a next request.
    const length: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const res = await rawRequest(app.baseUrl, pathOf(op, query), { method: op.method.toUpperCase(), headers: { ...headers, ...length }, body });
    answers.push(`${id} ${res.status} ${(res.json as { code?: string } | undefined)?.code}`);
  }
  expect(answers).toEqual(targets.map(([id]) => `${id} ${status} ${code}`));
}

describe('codes every operation can meet before its handler runs', () => {
  let app: TestApp;
  let admin: Actor;
  let cartToken: string;
  beforeAll(async () => {
    app = await startApp({ RATE_LIMIT_MAX: '100000', ALLOWED_HOSTS: '127.0.0.1,localhost' });
    admin = await actor(app, 'admin');
    cartToken = (await app.api.POST('/api/cart/guest/')).data!.cart_token;
  });
  afterAll(() => app.close());
  // A guest's cart token too, for the operations a cart token opens (a guest's checkout); where a
  // bearer token is accepted as well, it wins.
  const bearer = () => ({ authorization: `Bearer ${admin.tokens.access}`, 'x-cart-token': cartToken });

  /** The sample request of an operation whose body is a raw file (not JSON, not a form), with an unknown query parameter. */
  // An upload's sample form (multipart/form-data), with the query parameter it does not have.
  const uploadForm = (id: OperationId) => {
    const { headers, body } = sampleRequest(id);
    return typeof body === 'string' && headers['content-type']?.startsWith('multipart/')
      ? { headers: { ...bearer(), 'content-type': headers['content-type'] }, body, query: '?no_such_parameter=1' }
      : undefined;
  };
  const rawFile = (id: OperationId) => {
    const { headers, body } = sampleRequest(id);
    const type = headers['content-type'] ?? '';
    return typeof body === 'string' && type !== 'application/json' && !type.startsWith('multipart/')
      ? { headers: { ...bearer(), 'content-type': type }, body, query: '?no_such_parameter=1' }
      : undefined;
  };

  it('400 DISALLOWED_HOST: a Host the server does not serve', () => sweep(app, 400, 'DISALLOWED_HOST', () => ({ headers: { host: 'evil.example' } })));

  it('400 MALFORMED_JSON: a body that is not JSON, on every operation that takes a body', () =>
    sweep(app, 400, 'MALFORMED_JSON', () => ({ headers: { 'content-type': 'application/json' }, body: '{"unterminated' })));

  it('400 VALIDATION_ERROR: a query parameter the operation does not have', () =>
    sweep(app, 400, 'VALIDATION_ERROR', (id) =>
      // An operation with a body needs one, in JSON (or its own raw media type: a catalog file), for
      // the validator to get to its parameters.
      declaredCodes.get(id)?.has(415)
        ? rawFile(id) ?? uploadForm(id) ?? { headers: { ...bearer(), 'content-type': 'application/json' }, body: '{}', query: '?no_such_parameter=1' }
        : { headers: bearer(), query: '?no_such_parameter=1' },
    ));

  it('401 NOT_AUTHENTICATED: no bearer token where one is required', () => sweep(app, 401, 'NOT_AUTHENTICATED', () => ({})));

  it('401 INVALID_TOKEN: a token that is not a signed access token', () =>
    sweep(app, 401, 'INVALID_TOKEN', () => ({ headers: { authorization: 'Bearer not.a.token' } })));

  it('401 TOKEN_EXPIRED: an access token past its expiry', () => {
    const { issuer, audience } = app.config.auth;
    const expired = jwt.sign({ sub: String(admin.user.id), typ: 'access', role: 'admin', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      issuer,
      audience,
    });
    return sweep(app, 401, 'TOKEN_EXPIRED', () => ({ headers: { authorization: `Bearer ${expired}` } }));
  });

  it('413 PAYLOAD_TOO_LARGE: a body over the limit', () =>
    sweep(app, 413, 'PAYLOAD_TOO_LARGE', () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filler: 'x'.repeat(200_000) }) })));

  it('an operation that takes no body ignores one: a body over the limit, or not JSON, is not read (no 413, no MALFORMED_JSON)', async () => {
    const targets = operations.filter(([id]) => !operationsWithBody.has(id));
    expect(targets.length).toBeGreaterThan(30);
    // The contract declares neither answer on these operations: the strict problem handler would turn either into a 500.
    for (const [id] of targets) expect([declares(id, 400, 'MALFORMED_JSON'), declaredCodes.get(id)?.has(413)]).toEqual([false, false]);
    // Each is answered as the same request without a body is (ids no resource has: nothing is deleted).
    const send = async (op: Meta, body?: string) => {
      const headers: Record<string, string> = body === undefined ? bearer() : { ...bearer(), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      const res = await rawRequest(app.baseUrl, op.path.replace(/\{[^}]+\}/g, '999999'), { method: op.method.toUpperCase(), headers, body });
      return `${res.status} ${(res.json as { code?: string } | undefined)?.code ?? ''}`;
    };
    const answers: string[] = [];
    const expected: string[] = [];
    for (const [id, op] of targets) {
      const without = await send(op);
      expect(without).not.toMatch(/^(413|5)/);
      expected.push(`${id} ${without}`, `${id} ${without}`);
      answers.push(`${id} ${await send(op, JSON.stringify({ filler: 'x'.repeat(200_000) }))}`, `${id} ${await send(op, '{"unterminated')}`);
    }
    expect(answers).toEqual(expected);
  });

  it('415 UNSUPPORTED_MEDIA_TYPE: a body that is not JSON by its media type', () =>
    sweep(app, 415, 'UNSUPPORTED_MEDIA_TYPE', () => ({ headers: { ...bearer(), 'content-type': 'text/plain' }, body: 'hello' })));

  /** The operation's sample request (test/support/sample-requests.ts), with a bearer token, ids as given, and a query added. */
  const sample = async (id: OperationId, token: string, { ids = '1', query = '' }: { ids?: string; query?: string } = {}) => {
    const { method, path, headers, body } = sampleRequest(id);
    const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const url = operationIndex[id].path.replace(/\{[^}]+\}/g, ids) + (path.includes('?') ? `?${path.split('?')[1]}${query.replace('?', '&')}` : query);
    const length: Record<string, string> = raw === undefined ? {} : { 'content-length': String(Buffer.byteLength(raw)) };
    const res = await rawRequest(app.baseUrl, url, { method, headers: { ...headers, ...length, authorization: `Bearer ${token}` }, body: raw });
    return `${id} ${res.status} ${(res.json as { code?: string } | undefined)?.code}`;
  };
  const sweepSamples = async (status: number, code: string, targets: OperationId[], token: () => string, options: { ids?: string; query?: string } = {}) => {
    expect(targets.length).toBeGreaterThan(0);
    const answers: string[] = [];
    for (const id of targets) answers.push(await sample(id, token(), options));
    expect(answers).toEqual(targets.map((id) => `${id} ${status} ${code}`));
  };

  it('400 INVALID_CURSOR: a cursor the server did not sign, on every list', () =>
    sweepSamples(400, 'INVALID_CURSOR', having(400, 'INVALID_CURSOR').map(([id]) => id), () => admin.tokens.access, { query: '?cursor=nonsense' }));

  it('400 INVALID_PAGINATION: both a cursor and a page, on every list', () =>
    sweepSamples(400, 'INVALID_PAGINATION', having(400, 'INVALID_PAGINATION').map(([id]) => id), () => admin.tokens.access, { query: '?cursor=nonsense&page=2' }));

  it('404 NOT_FOUND: a valid request for an object that does not exist (as an admin, who may see every object)', () =>
    sweepSamples(404, 'NOT_FOUND', having(404, 'NOT_FOUND').map(([id]) => id), () => admin.tokens.access, { ids: '999999' }));

  it('403 FORBIDDEN: a customer sending a valid request to an operation for other roles', async () => {
    const customer = await actor(app, 'customer');
    const targets = having(403, 'FORBIDDEN')
      .filter(([, op]) => op.roles && !(op.roles as readonly string[]).includes('customer'))
      .map(([id]) => id);
    await sweepSamples(403, 'FORBIDDEN', targets, () => customer.tokens.access, { ids: '999999' });
  });
});

describe('429 RATE_LIMITED on every operation that declares it', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_SECONDS: '3600' });
  });
  afterAll(() => app.close());

  it('answers 429 RATE_LIMITED once the allowance is spent, whatever the operation', async () => {
    await rawRequest(app.baseUrl, '/api/');
    await sweep(app, 429, 'RATE_LIMITED', () => ({}));
  });
});
