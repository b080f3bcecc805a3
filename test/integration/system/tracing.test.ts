import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct, type MadeProduct } from '../../support/catalog';
import { actor, uniqueName } from '../../support/factories';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../support/otlp-receiver';
import { poll, serversFor, startWorkerProcess } from '../../support/processes';
import { rawRequest } from '../../support/raw-http';

/**
 * OpenTelemetry tracing in real server and worker processes (src/tracing.ts), exported over
 * OTLP/HTTP (JSON) to a real receiver the test runs, as an operator's collector would get it. The
 * batch processor waits ten minutes between exports here: every span received was flushed by the
 * graceful shutdown. The span naming and scrubbing are also tested in-process, with an in-memory
 * exporter (test/unit/tracing.test.ts).
 */
// Real server processes (tsx compiles the app each time): slow on a busy machine.
jest.setTimeout(180_000);

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;
const preload = join(__dirname, '..', '..', 'support', 'loaded-modules.cjs');

let app: TestApp;
let product: MadeProduct;
let adminToken: string;
let receiver: OtlpReceiver;
let folder: string;
beforeAll(async () => {
  app = await startApp();
  const admin = await actor(app, 'admin');
  adminToken = admin.tokens.access;
  const vendor = await actor(app, 'vendor');
  product = await makeProduct(vendor, (await makeCategory(admin)).id);
  folder = await mkdtemp(join(tmpdir(), 'tracing-'));
});
afterAll(async () => {
  await app.close();
  await rm(folder, { recursive: true, force: true });
});
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(() => receiver.close());
const server = serversFor(() => app);

/** The settings of a server exporting to the receiver, and the file its loaded modules are listed in. */
function tracingEnv(name: string, on: boolean): { env: Record<string, string>; modules: string } {
  const modules = join(folder, `${name}.modules`);
  return {
    modules,
    env: {
      ...(on ? { OTEL_TRACING: 'true' } : {}),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // One batch, exported by the shutdown: no timer, no batch filling up before it.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100000',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100000',
      OTEL_SERVICE_NAME: 'shop-tracing-test',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${preload}"`.trim(),
      LOADED_MODULES_FILE: modules,
    },
  };
}

const loadedOpenTelemetry = (file: string) => [...new Set(readFileSync(file, 'utf8').split('\n').flatMap((path) => /node_modules\/(@opentelemetry\/[^/]+)\//.exec(path)?.[1] ?? []))];

function serverSpan(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name && s.kind === SPAN_KIND_SERVER);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The spans under `parent` (children, grandchildren...), in the same trace. */
function descendants(spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  const below = spans.filter((s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId);
  return below.flatMap((s) => [s, ...descendants(spans, s)]);
}

describe('with OTEL_TRACING=true', () => {
  it('names server spans by operation, with each SQL statement a child span without its values, and exports them at shutdown', async () => {
    const { env, modules } = tracingEnv('on', true);
    const s = await server(env);
    const username = uniqueName('traced');
    const email = `${username}@example.com`;
    const password = `secret-${uniqueName('pw')}`;

    expect((await s.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } })).response.status).toBe(200);
    expect((await s.api.POST('/api/auth/register/', { body: { username, email, password } })).response.status).toBe(201);
    expect((await s.api.POST('/api/auth/jwt/login/', { body: { username, password } })).response.status).toBe(200);
    // An admin looking the new account up by its email: a value in the query string.
    const found = await s.as(adminToken).GET('/api/users/', { params: { query: { search: email } } });
    expect(found.response.status).toBe(200);
    expect(found.data?.results.map((u) => u.username)).toEqual([username]);
    const gql = await fetch(`${s.baseUrl}/graphql/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: 'query TracedMenu { categoryTree { id } }' }),
    });
    expect(gql.status).toBe(200);
    expect((await fetch(`${s.baseUrl}/healthz`)).status).toBe(200);
    // Nothing is exported before the shutdown (the batch waits ten minutes): the shutdown flushes.
    expect(receiver.spans).toEqual([]);
    expect(await s.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const spans = receiver.spans;
    expect(new Set(spans.map((sp) => sp.service))).toEqual(new Set(['shop-tracing-test']));

    // The product's detail: its server span, with the catalog's named prepared statement below it.
    const detail = serverSpan(spans, 'GET /api/product/{id}/');
    expect(detail.attributes).toMatchObject({ 'http.route': '/api/product/{id}/', 'operation.id': 'getProduct', 'http.request.method': 'GET', 'http.response.status_code': 200 });
    const detailSql = descendants(spans, detail).filter((sp) => sp.name.startsWith('pg.query:'));
    expect(detailSql.length).toBeGreaterThan(0);
    expect(detailSql.some((sp) => /^pg\.query:q_[0-9a-f]+ /.test(sp.name) && String(sp.attributes['db.query.text']).includes('$1'))).toBe(true);
    expect(detailSql.every((sp) => sp.attributes['db.system.name'] === 'postgresql')).toBe(true);

    // A POST with a body: MikroORM's statements (their values inlined by MikroORM) below it, scrubbed.
    const register = serverSpan(spans, 'POST /api/auth/register/');
    expect(register.attributes).toMatchObject({ 'http.route': '/api/auth/register/', 'operation.id': 'register', 'http.response.status_code': 201 });
    const registerSql = descendants(spans, register).filter((sp) => sp.name.startsWith('pg.query:'));
    const insert = registerSql.find((sp) => /^insert into "users"/i.test(String(sp.attributes['db.query.text'])));
    expect(insert).toBeDefined();
    expect(insert!.name).toMatch(/^pg\.query:INSERT /);
    expect(insert!.attributes['db.query.text']).toMatch(/values \(\?/i);
    expect(serverSpan(spans, 'POST /api/auth/jwt/login/').attributes).toMatchObject({ 'operation.id': 'login' });
    // The query string keeps its parameter names only.
    expect(serverSpan(spans, 'GET /api/users/').attributes).toMatchObject({ 'operation.id': 'listUsers', 'url.path': '/api/users/', 'url.query': 'search' });

    // GraphQL: named by its operation.
    const menu = serverSpan(spans, 'POST /graphql/ TracedMenu');
    expect(menu.attributes).toMatchObject({ 'http.route': '/graphql/', 'operation.id': 'graphql:TracedMenu', 'graphql.operation.name': 'TracedMenu' });
    expect(descendants(spans, menu).some((sp) => sp.name.startsWith('pg.query:'))).toBe(true);

    // The probes start no trace; a statement outside a request or a job (pg-boss's polling, the
    // startup's) starts none either: every statement's span has its parent in the export.
    expect(spans.filter((sp) => sp.attributes['url.path'] === '/healthz')).toEqual([]);
    const ids = new Set(spans.map((sp) => sp.spanId));
    expect(spans.filter((sp) => sp.name.startsWith('pg.') && !(sp.parentSpanId && ids.has(sp.parentSpanId)))).toEqual([]);

    // No value sent in the bodies or the query string, nor the password's hash, anywhere in what was exported.
    for (const body of receiver.bodies) {
      expect(body).not.toContain(email);
      expect(body).not.toContain(encodeURIComponent(email));
      expect(body).not.toContain(username);
      expect(body).not.toContain(password);
      expect(body).not.toContain('$argon2');
    }

    expect(loadedOpenTelemetry(modules)).toEqual(expect.arrayContaining(['@opentelemetry/sdk-node', '@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-pg']));
  });
});

describe('a cluster (WEB_CONCURRENCY=2) with OTEL_TRACING=true', () => {
  it('traces in every web process, each with its own SDK, and each flushes at shutdown', async () => {
    const { env } = tracingEnv('cluster', true);
    const s = await server({ ...env, WEB_CONCURRENCY: '2' });
    for (const worker of ['1', '2']) await s.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on') && l.worker === worker);
    // Each request on a connection of its own: the primary hands connections out in turn.
    for (let i = 0; i < 6; i++) expect((await rawRequest(s.baseUrl, '/api/')).status).toBe(200);
    const served = new Set(s.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('GET /api/ 200')).map((l) => l.pid));
    expect(served.size).toBe(2);
    expect(await s.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const roots = receiver.spans.filter((sp) => sp.name === 'GET /api/' && sp.kind === SPAN_KIND_SERVER);
    expect(roots).toHaveLength(6);
    expect(new Set(roots.map((sp) => sp.pid))).toEqual(served);
  });
});

describe('the worker process with OTEL_TRACING=true', () => {
  it('traces each job (pg-boss\'s process span) with its SQL statements below it, and not the polling between jobs', async () => {
    const { env } = tracingEnv('worker', true);
    const worker = startWorkerProcess(app, env);
    let id: string | null = null;
    try {
      await worker.waitFor((l) => l.msg === 'worker running');
      id = await app.orm.em.fork().transactional((tx) => app.services.jobs.send(tx, 'carts.expire-abandoned', {}));
      const done = await poll(() => app.services.jobs.getJob('carts.expire-abandoned', id!), (j) => j?.state === 'completed');
      expect(done?.state).toBe('completed');
      expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await worker.stop('SIGKILL');
    }

    // pg-boss's own CONSUMER span around the handler (it traces through the OpenTelemetry API).
    const jobs = receiver.spans.filter((sp) => sp.name === 'process carts.expire-abandoned' && sp.attributes['messaging.message.id'] === id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: SPAN_KIND_CONSUMER, service: 'shop-tracing-test', attributes: { 'messaging.system': 'pg-boss', 'messaging.destination.name': 'carts.expire-abandoned' } });
    expect(descendants(receiver.spans, jobs[0]!).filter((sp) => sp.name.startsWith('pg.query:')).length).toBeGreaterThan(0);
    // pg-boss's polling between jobs starts no trace: every statement's span has its parent.
    const ids = new Set(receiver.spans.map((sp) => sp.spanId));
    expect(receiver.spans.filter((sp) => sp.name.startsWith('pg.') && !(sp.parentSpanId && ids.has(sp.parentSpanId)))).toEqual([]);
  });
});

describe('without OTEL_TRACING', () => {
  it('loads no OpenTelemetry SDK and exports nothing, even with an OTLP endpoint set', async () => {
    const { env, modules } = tracingEnv('off', false);
    const s = await server(env);
    expect((await s.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } })).response.status).toBe(200);
    expect(await s.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    expect(receiver.bodies).toEqual([]);
    // At most the API (pg-boss traces through it: a no-op without an SDK); no SDK, exporter or instrumentation.
    expect(loadedOpenTelemetry(modules).filter((name) => name !== '@opentelemetry/api')).toEqual([]);
  });
});
