import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { GRAPHQL_LABEL } from '../../src/http/operation-label';
import { isUntraced, nameServerSpan, ScrubbingExporter, scrubStatementSpan } from '../../src/tracing';

/**
 * How src/tracing.ts names and scrubs spans, on spans of a real tracer provider exported to an
 * in-memory exporter (the process-level test, with the instrumentations and OTLP, is
 * test/integration/system/tracing.test.ts). The requests are what the validator and the GraphQL
 * adapter leave on Node's request and answer.
 */
describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('test');
  afterEach(() => exporter.reset());
  afterAll(() => provider.shutdown());

  const request = (method: string, url: string, openapi?: object) => ({ method, url, ...(openapi ? { openapi } : {}) }) as unknown as IncomingMessage;
  const answer = (graphqlLabel?: string) => ({ setHeader() {}, ...(graphqlLabel ? { [GRAPHQL_LABEL]: graphqlLabel } : {}) }) as unknown as ServerResponse;

  /** Ends a span named by `nameServerSpan` and answers what was exported. */
  function served(req: IncomingMessage, res: ServerResponse) {
    exporter.reset();
    const span = tracer.startSpan(req.method ?? 'GET');
    nameServerSpan(span, req, res);
    span.end();
    const [exported] = exporter.getFinishedSpans();
    return { name: exported!.name, attributes: exported!.attributes };
  }

  it('names a contract operation by its method and path template, with http.route and operation.id', () => {
    const req = request('GET', '/api/product/42/', { openApiRoute: '/api/product/{id}/', schema: { operationId: 'getProduct' } });
    expect(served(req, answer())).toEqual({ name: 'GET /api/product/{id}/', attributes: { 'http.route': '/api/product/{id}/', 'operation.id': 'getProduct' } });
  });

  it('names a GraphQL request by its operation name; an anonymous or unnamed one by the endpoint alone', () => {
    expect(served(request('POST', '/graphql/'), answer('graphql:CategoryMenu'))).toEqual({
      name: 'POST /graphql/ CategoryMenu',
      attributes: { 'http.route': '/graphql/', 'operation.id': 'graphql:CategoryMenu', 'graphql.operation.name': 'CategoryMenu' },
    });
    for (const label of ['graphql:anonymous', 'graphql:other']) {
      expect(served(request('POST', '/graphql'), answer(label))).toEqual({ name: 'POST /graphql/', attributes: { 'http.route': '/graphql/', 'operation.id': label } });
    }
  });

  it('leaves a request outside the contract named by its method alone (no route: no unbounded names)', () => {
    expect(served(request('GET', '/no-such-path/x1/'), answer())).toEqual({ name: 'GET', attributes: {} });
  });

  it('scrubs the values MikroORM inlines from a statement\'s text, and keeps a bound statement as sent', () => {
    const inlined = tracer.startSpan('pg.query:SELECT shop');
    scrubStatementSpan(inlined, { text: `select "u0".* from "users" as "u0" where "u0"."email" = 'ann@example.com' and "u0"."token_version" = 3 limit 1` });
    inlined.end();
    const bound = tracer.startSpan('pg.query:q_0123 shop');
    bound.setAttribute('db.query.text', 'select * from products where id = $1 limit 20');
    scrubStatementSpan(bound, { text: 'select * from products where id = $1 limit 20', values: [42] });
    bound.end();

    const [a, b] = exporter.getFinishedSpans();
    expect(a!.attributes['db.query.text']).toBe(`select "u0".* from "users" as "u0" where "u0"."email" = ? and "u0"."token_version" = ? limit ?`);
    expect(b!.attributes['db.query.text']).toBe('select * from products where id = $1 limit 20');
    expect(JSON.stringify(b!.attributes)).not.toContain('42');
  });

  it('exports error messages (status, exception events) scrubbed of values, stack frames kept, the span itself untouched', async () => {
    const received = new InMemorySpanExporter();
    const scrubbing = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new ScrubbingExporter(received) })] });
    const span = scrubbing.getTracer('test').startSpan('process mail.send');
    const err = new Error(`insert into "users" ("email") values ('ann@example.com') - duplicate key value violates unique constraint "users_email_unique"\n - detail: Failing row contains (7, ann, ann@example.com).`);
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'invalid input syntax for type integer: "abc"' });
    span.end();
    const quiet = scrubbing.getTracer('test').startSpan('GET /api/product/');
    quiet.end();

    const [failed, ok] = received.getFinishedSpans();
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'invalid input syntax for type integer: "?"' });
    const exception = failed!.events.find((e) => e.name === 'exception')!.attributes!;
    expect(exception['exception.message']).toBe('insert into "users" ("email") values (?) - duplicate key value violates unique constraint "users_email_unique"');
    expect(String(exception['exception.stacktrace'])).toMatch(/^Error: insert into "users" \("email"\) values \(\?\) - [^\n]+\n\s+at .+:\d+:\d+/);
    expect(JSON.stringify(failed!.events)).not.toContain('ann@example.com');
    // What it reads through to the span: its context, name and times.
    expect(failed!.spanContext().spanId).toBe(span.spanContext().spanId);
    expect(failed!.name).toBe('process mail.send');
    expect(ok!.status).toEqual({ code: SpanStatusCode.UNSET });
    expect((span as unknown as ReadableSpan).status.message).toBe('invalid input syntax for type integer: "abc"');
    await scrubbing.shutdown();
  });

  it('exports query strings with their parameter names only: a request\'s, an outgoing request\'s URL', async () => {
    const received = new InMemorySpanExporter();
    const scrubbing = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new ScrubbingExporter(received) })] });
    const scrubbingTracer = scrubbing.getTracer('test');
    const incoming = scrubbingTracer.startSpan('GET /api/users/');
    incoming.setAttributes({ 'url.path': '/api/users/', 'url.query': 'search=ann%40example.com&page=2&ann@example.com', 'http.target': '/api/users/?search=ann%40example.com' });
    incoming.end();
    const outgoing = scrubbingTracer.startSpan('POST');
    outgoing.setAttributes({ 'url.full': 'https://merchant.example/hooks/shop?token=s3cret&v=2#frag', 'http.url': 'https://merchant.example/hooks/shop?token=s3cret' });
    outgoing.end();
    const plain = scrubbingTracer.startSpan('POST');
    plain.setAttributes({ 'url.full': 'https://merchant.example/hooks/shop', 'url.query': '' });
    plain.end();

    const [a, b, c] = received.getFinishedSpans();
    expect(a!.attributes).toEqual({ 'url.path': '/api/users/', 'url.query': 'search&page&?', 'http.target': '/api/users/?search' });
    expect(b!.attributes).toEqual({ 'url.full': 'https://merchant.example/hooks/shop?token&v', 'http.url': 'https://merchant.example/hooks/shop?token' });
    expect(c!.attributes).toEqual({ 'url.full': 'https://merchant.example/hooks/shop', 'url.query': '' });
    expect(JSON.stringify(received.getFinishedSpans().map((sp) => sp.attributes))).not.toMatch(/ann|s3cret/);
    // The spans themselves keep what was recorded (only the export is scrubbed).
    expect((incoming as unknown as ReadableSpan).attributes['url.query']).toBe('search=ann%40example.com&page=2&ann@example.com');
    await scrubbing.shutdown();
  });

  it('leaves the probes and scrapes untraced, and nothing else', () => {
    expect(['/healthz', '/readyz', '/metrics', '/readyz?full=1'].map((url) => isUntraced(request('GET', url)))).toEqual([true, true, true, true]);
    expect(['/api/product/', '/healthz/x', '/'].map((url) => isUntraced(request('GET', url)))).toEqual([false, false, false]);
  });
});
