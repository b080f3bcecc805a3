/**
 * OpenTelemetry tracing (docs/operations.md, "Tracing"): loaded by src/tracing-start.ts only when
 * OTEL_TRACING is on, before anything it instruments is loaded. Spans go out over OTLP/HTTP (JSON)
 * in batches; the standard variables configure the rest (OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT,
 * _HEADERS, _TIMEOUT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
 * OTEL_BSP_*). This module picks what is traced, how it is named, and what never leaves:
 *
 * - every HTTP request is a server span named by the contract's operation
 *   (`GET /api/product/{id}/`, with `http.route` and `operation.id`; GraphQL: `POST /graphql/
 *   <operation name>`), except the probes and scrapes (`/healthz`, `/readyz`, `/metrics`);
 * - every SQL statement run inside one, or inside a job (pg-boss's own `process <queue>` span:
 *   pg-boss traces through the OpenTelemetry API, a no-op without the SDK), is a child span
 *   (`pg.query:SELECT <db>`; the catalog's named prepared statements `pg.query:q_<hash> <db>`),
 *   whose text has placeholders (`$1`) or `?` for every value, never the values themselves;
 * - outgoing HTTP requests (webhook deliveries) are client spans;
 * - on the way out, error messages (span status, exception events) are scrubbed of values, and
 *   query strings (an incoming request's, a webhook target's) keep their parameter names only.
 *
 * Metrics and logs stay with prom-client and pino: the SDK exports traces only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { contractOperationOf, graphqlLabelOf } from './http/operation-label';
import { withoutValues } from './logger';

/** Requests that never start a trace: orchestrators' probes and Prometheus' scrapes, every few seconds. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** The service name when OTEL_SERVICE_NAME (or `service.name` in OTEL_RESOURCE_ATTRIBUTES) sets none. */
const DEFAULT_SERVICE_NAME = 'ecommerce-backend';

/** Whether an incoming request is left untraced (its statements too). */
export function isUntraced(req: IncomingMessage): boolean {
  return UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? '');
}

/**
 * Names a server span once its answer is sent, by what the request turned out to be: the
 * contract's operation (`GET /api/product/{id}/`), a GraphQL operation (`POST /graphql/ Name`),
 * or, for anything outside both, the method alone (the instrumentation's default).
 */
export function nameServerSpan(span: Span, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const operation = contractOperationOf(req);
  if (operation) {
    span.updateName(`${method} ${operation.route}`);
    span.setAttributes({ 'http.route': operation.route, 'operation.id': operation.id });
    return;
  }
  const graphql = graphqlLabelOf(res);
  if (graphql) {
    // `graphql:anonymous` and `graphql:other` (src/http/metrics.ts) name no operation of their own.
    const name = graphql === 'graphql:anonymous' || graphql === 'graphql:other' ? undefined : graphql.slice('graphql:'.length);
    span.updateName(name ? `${method} /graphql/ ${name}` : `${method} /graphql/`);
    span.setAttributes({ 'http.route': '/graphql/', 'operation.id': graphql, ...(name ? { 'graphql.operation.name': name } : {}) });
  }
}

/**
 * A statement's span carries its text without values. MikroORM inlines its parameters as literals
 * before the statement reaches pg (`where "u0"."email" = 'a@b.c'`): the text of a statement sent
 * without bound parameters is scrubbed like the log's (every literal and number becomes `?`).
 * One sent with bound parameters (the catalog's prepared statements, pg-boss) keeps its text, with
 * its `$1` placeholders; the values themselves are never recorded (no `enhancedDatabaseReporting`).
 */
export function scrubStatementSpan(span: Span, query: { text: string; values?: unknown[] }): void {
  if (!query.values?.length) span.setAttribute('db.query.text', withoutValues(query.text));
}

/**
 * An error's message in a span (its status, an exception event), scrubbed like the log's: without
 * PostgreSQL's detail and hint (`Failing row contains (...)` quotes a row unquoted), every value
 * `?`. A stack's frames are kept.
 */
function scrubMessage(text: string): string {
  const frames = text.search(/\n\s+at /);
  const message = frames < 0 ? text : text.slice(0, frames);
  return withoutValues(message.replace(/\n - (?:detail|hint): [\s\S]*$/, '')) + (frames < 0 ? '' : text.slice(frames));
}

/**
 * The HTTP instrumentation's attributes holding a query string: `url.query` (without its `?`),
 * and whole URLs or targets (`url.full` of an outgoing request, the older conventions' `http.url`
 * and `http.target`).
 */
const QUERY_ATTRIBUTES = ['url.query', 'url.full', 'http.url', 'http.target'] as const;

/** What a query parameter's name looks like (the contract's are snake_case; `name[]` for lists). */
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}(\[\])?$/;

/**
 * The parameter names of a query string (`search=ann%40b.c&page=2` -> `search&page`), never their
 * values; a "name" that does not look like one (`?ann@example.com`, a value sent bare) is `?`.
 */
function queryNames(query: string): string {
  return [...new URLSearchParams(query).keys()].map((name) => (PARAMETER_NAME.test(name) ? name : '?')).join('&');
}

/** A URL, a request target or a bare query (`url.query`) with its query string reduced to its parameter names. */
function withoutQueryValues(key: (typeof QUERY_ATTRIBUTES)[number], value: string): string {
  if (key === 'url.query') return queryNames(value);
  const mark = value.indexOf('?');
  if (mark < 0) return value;
  const hash = value.indexOf('#', mark);
  const query = value.slice(mark + 1, hash < 0 ? undefined : hash);
  const names = queryNames(query);
  return value.slice(0, mark) + (names ? `?${names}` : '');
}

/**
 * A span as it leaves the process, scrubbed:
 * - the messages of its errors. They can quote values: a failed statement's status is PostgreSQL's
 *   message (`invalid input syntax for type integer: "abc"`), and a job that failed on a database
 *   error (pg-boss records it) carries MikroORM's message, the statement with its values inlined;
 * - its query strings, to their parameter names: a request's (an admin's `GET /api/users/?search=
 *   ann@example.com`) and a webhook target's (a merchant's URL may carry `?token=...`).
 * The span itself is left as it was.
 */
export function scrubbed(span: ReadableSpan): ReadableSpan {
  const exceptions = span.events.some((e) => e.name === 'exception');
  const queries = QUERY_ATTRIBUTES.filter((key) => {
    const value = span.attributes[key];
    return typeof value === 'string' && (key === 'url.query' ? value !== '' : value.includes('?'));
  });
  if (span.status.message === undefined && !exceptions && queries.length === 0) return span;
  const attributes = { ...span.attributes };
  for (const key of queries) attributes[key] = withoutQueryValues(key, String(span.attributes[key]));
  const events = span.events.map((e) => {
    if (e.name !== 'exception' || !e.attributes) return e;
    const attributes = { ...e.attributes };
    for (const key of ['exception.message', 'exception.stacktrace']) {
      const value = attributes[key];
      if (typeof value === 'string') attributes[key] = scrubMessage(value);
    }
    return { ...e, attributes };
  });
  const status = span.status.message === undefined ? span.status : { ...span.status, message: scrubMessage(span.status.message) };
  // Everything else (the span context, times, attributes, resource) read through to the span.
  return Object.create(span, {
    status: { value: status, enumerable: true },
    events: { value: events, enumerable: true },
    attributes: { value: attributes, enumerable: true },
  }) as ReadableSpan;
}

/** Hands `next` (the OTLP exporter) every span scrubbed. */
export class ScrubbingExporter implements SpanExporter {
  constructor(private readonly next: SpanExporter) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.next.export(spans.map(scrubbed), done);
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush?.() ?? Promise.resolve();
  }
}

/** The running SDK: `shutdown` exports the spans still buffered (the graceful shutdown calls it last). */
export interface Tracing {
  shutdown(): Promise<void>;
}

/** Starts the SDK; from then on, `http` and `pg` are instrumented as they are loaded. */
export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing {
  const named = env.OTEL_SERVICE_NAME !== undefined || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: DEFAULT_SERVICE_NAME }),
    // OTLP over HTTP (JSON), to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, batched per OTEL_BSP_*.
    traceExporter: new ScrubbingExporter(new OTLPTraceExporter()),
    // Traces only: no OpenTelemetry metrics or logs exported (an empty list turns each off).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: isUntraced,
        applyCustomAttributesOnSpan: (span, request, response) => {
          // Server spans only: an outgoing request's span keeps the instrumentation's name.
          if ('setHeader' in response) nameServerSpan(span, request as IncomingMessage, response);
        },
      }),
      new PgInstrumentation({
        // Statements outside a request or a job (pg-boss polling its queues) start no trace of their own.
        requireParentSpan: true,
        requestHook: (span, { query }) => scrubStatementSpan(span, query),
      }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
