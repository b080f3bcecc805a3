import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DomainError } from '../shared/errors';
import { clusterWorkerLabel, joinClusterMetrics } from './cluster-metrics';
import { GRAPHQL_LABEL, graphqlLabelOf, operationIdOf } from './operation-label';
import { sendProblem, toProblem } from './problem';

/**
 * Prometheus metrics (`GET /metrics`, docs/operations.md "Metrics"): the process's own (memory,
 * CPU, event-loop lag, GC), every HTTP request by operation, and gauges read at scrape time (the
 * database pools, the job queues). Its own registry, never prom-client's global one: two apps in
 * one process (the tests) never share counters.
 *
 * This layer knows no context: what the gauges read is handed in (src/app.ts).
 */

/** One database pool as the gauges read it. */
export interface PoolReading {
  pool: string;
  inUse: number;
  idle: number;
  waiting: number;
}

/** One job queue as the gauges read it. */
export interface QueueReading {
  queue: string;
  queued: number;
  active: number;
  failed: number;
}

/** Where the limits are counted (src/http/rate-limit.ts's LimitStore) as the metrics read it. */
export interface LimitsReading {
  /** Whether Redis answers; undefined without Redis (the limits are in memory). */
  redisUp?: boolean;
  /** Operations on the limits' store (counting a request, reading or recording a login failure...) answered from this process's memory because Redis did not answer. */
  fallbacks: number;
}

/** The read replicas (DATABASE_REPLICA_URLS) as the metrics read them. */
export interface ReplicasReading {
  replicas: { name: string; status: string; lagSeconds: number | null }[];
  /** Requests and reads that could have gone to a replica and went to the primary, by why. */
  primaryReads: Record<string, number>;
}

/** What the scrape-time gauges read, handed in by the composition (src/app.ts). */
export interface MetricsSources {
  /** The read replicas, when there are some. */
  replicas?(): ReplicasReading;
  /** The limits' store (rate limits, login throttling). */
  limits?(): LimitsReading;
  /** The database pools, read at each scrape. */
  pools(): PoolReading[];
  /** The job queues, or undefined when this process has no queue started. */
  queues?(): Promise<QueueReading[] | undefined>;
}

/** Job queue readings are kept this long: a scrape every few seconds costs at most one query. */
const QUEUE_CACHE_MS = 5000;

const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The `operation` label of a GraphQL request: `graphql:<name>`, `graphql:anonymous` without a
 * name. Names are chosen by clients: one longer than 64 characters or not a GraphQL name (it
 * cannot be, once parsed, but the label must not trust that) is `graphql:other`, so a client
 * cannot grow the label set without bound beyond its distinct valid names.
 */
export function graphqlOperationLabel(name: string | null | undefined): string {
  if (name === null || name === undefined || name === '') return 'graphql:anonymous';
  if (name.length > 64 || !GRAPHQL_NAME.test(name)) return 'graphql:other';
  return `graphql:${name}`;
}

/**
 * Label sets of the request metrics kept at most (operations x status classes x methods stay far
 * below it; only GraphQL operation names, chosen by clients, could grow past it).
 */
const MAX_SERIES = 2000;

/** Whether metrics are kept at all: only when something can read them (METRICS_TOKEN or METRICS_PORT). */
export function metricsExposed(settings: { token?: string; port?: number }): boolean {
  return settings.token !== undefined || settings.port !== undefined;
}

/** Names a GraphQL request's operation for its metrics and trace (src/graphql/server.ts calls it once parsed). */
export function labelGraphqlOperation(res: Response, name: string | null | undefined): void {
  (res as unknown as Record<symbol, string>)[GRAPHQL_LABEL] = graphqlOperationLabel(name);
}

function statusClass(status: number): string {
  return status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
}

function operationLabel(req: Request, res: Response): string {
  const graphql = graphqlLabelOf(res);
  if (graphql) return graphql;
  const id = operationIdOf(req);
  if (id) return id;
  // A GraphQL request refused before it was parsed (415, a body over the limit, bad JSON).
  const path = req.originalUrl;
  if (path === '/graphql' || path.startsWith('/graphql/') || path.startsWith('/graphql?')) return 'graphql:other';
  return 'unmatched';
}

/** The app's metrics: its registry and the two handlers src/app.ts mounts. */
export interface Metrics {
  registry: Registry;
  /** What a scrape answers: this registry, or in a cluster worker the whole cluster's (src/http/cluster-metrics.ts). */
  text(): Promise<string>;
  contentType: string;
  /** Counts and times every request; mount it first. */
  instrument: RequestHandler;
  /** Answers a scrape in Prometheus's text format. */
  scrape: RequestHandler;
}

/** A registry with the process's, the requests', the pools' and the queues' metrics. */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  // In a cluster (WEB_CONCURRENCY > 1) a scrape answers every web process's registry side by side
  // (src/http/cluster-metrics.ts): every series carries the process's place (1..N) as its `worker`
  // label, so a process restarting resets its own counters only, never a cluster-wide sum.
  const worker = clusterWorkerLabel();
  if (worker) registry.setDefaultLabels({ worker });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by operation (operationId, graphql:<name>, unmatched), status class and method.',
    labelNames: ['operation', 'status_class', 'method'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by operation and status class.',
    labelNames: ['operation', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const poolGauge = (name: string, help: string, field: 'inUse' | 'idle' | 'waiting') =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of sources.pools()) this.set({ pool: p.pool }, p[field]);
      },
    });
  poolGauge('db_pool_connections_in_use', 'Database connections lent out, by pool (write, read, replica-0...).', 'inUse');
  poolGauge('db_pool_connections_idle', 'Database connections open and free, by pool.', 'idle');
  poolGauge('db_pool_acquires_waiting', 'Requests waiting for a database connection, by pool.', 'waiting');

  // The job queues are the same table whichever process reads it: in a cluster web process 1 alone
  // reports them (one query per scrape at most, not one per process).
  if (sources.queues && (worker === undefined || worker === '1')) {
    const read = sources.queues.bind(sources);
    let cached: { at: number; readings: Promise<QueueReading[] | undefined> } | undefined;
    const readings = () => {
      const now = Date.now();
      if (!cached || now - cached.at >= QUEUE_CACHE_MS) {
        // A failed reading (the database away) leaves the gauges empty and is tried again next scrape.
        const pending = read().catch(() => undefined);
        cached = { at: now, readings: pending };
        void pending.then((r) => {
          if (r === undefined && cached?.readings === pending) cached = undefined;
        });
      }
      return cached.readings;
    };
    const queueGauge = (name: string, help: string, labels: readonly ('state' | 'queue')[], fill: (g: Gauge<string>, r: QueueReading) => void) =>
      new Gauge({
        name,
        help,
        labelNames: labels,
        registers: [registry],
        async collect() {
          this.reset();
          for (const r of (await readings()) ?? []) fill(this, r);
        },
      });
    queueGauge('job_queue_depth', 'Jobs waiting (state="queued", retries included) or running (state="active"), by queue.', ['queue', 'state'], (g, r) => {
      g.set({ queue: r.queue, state: 'queued' }, r.queued);
      g.set({ queue: r.queue, state: 'active' }, r.active);
    });
    queueGauge('job_queue_failed', 'Failed jobs still kept (pg-boss retention), by queue.', ['queue'], (g, r) => g.set({ queue: r.queue }, r.failed));
  }

  if (sources.limits) {
    const limits = sources.limits.bind(sources);
    if (limits().redisUp !== undefined) {
      new Gauge({
        name: 'redis_up',
        help: 'Whether Redis answers (1) or the limits fell back to this process\'s memory (0).',
        registers: [registry],
        collect() {
          this.set(limits().redisUp ? 1 : 0);
        },
      });
    }
    new Counter({
      name: 'rate_limit_store_fallback_total',
      help: 'Operations on the rate limits\' and login throttling\'s store (a request counted, a login failure read, recorded or cleared) answered from process memory because Redis did not answer.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(limits().fallbacks);
      },
    });
  }

  if (sources.replicas) {
    const replicas = sources.replicas.bind(sources);
    new Gauge({
      name: 'db_replica_healthy',
      help: 'Whether a read replica is in use (1) or skipped, down or lagging past the bound (0), by replica.',
      labelNames: ['replica'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const r of replicas().replicas) this.set({ replica: r.name }, r.status === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'How far a read replica was behind the primary at its last check, by replica (absent when it could not be measured).',
      labelNames: ['replica'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const r of replicas().replicas) if (r.lagSeconds !== null) this.set({ replica: r.name }, r.lagSeconds);
      },
    });
    new Counter({
      name: 'db_replica_primary_reads_total',
      help: 'Catalog reads that went to the primary instead of a replica: requests whose caller wrote lately (recent_write) or that found no healthy replica (no_healthy_replica), and statements retried on the primary after a replica failed (replica_failed).',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(replicas().primaryReads)) this.inc({ reason }, count);
      },
    });
  }

  // The label-bound children of both metrics, per (operation, status class, method): prom-client
  // hashes a label object on every inc/observe, which cost ~5% of the product detail's throughput
  // in the benchmark; a bound child does not. At most MAX_SERIES of them: a client inventing GraphQL
  // operation names must not grow the registry without end (past the bound: `graphql:other`).
  const series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  const seriesOf = (operation: string, status: string, method: string) => {
    let key = `${operation} ${status} ${method}`;
    let s = series.get(key);
    if (s) return s;
    if (series.size >= MAX_SERIES && operation.startsWith('graphql:')) {
      operation = 'graphql:other';
      key = `${operation} ${status} ${method}`;
      s = series.get(key);
      if (s) return s;
    }
    s = { count: requests.labels(operation, status, method), time: duration.labels(operation, status) };
    series.set(key, s);
    return s;
  };

  const instrument: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const s = seriesOf(operationLabel(req, res), statusClass(res.statusCode), req.method);
      s.count.inc();
      s.time.observe(Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  const text = worker ? joinClusterMetrics(registry) : () => registry.metrics();
  const scrape: RequestHandler = (_req, res, next) => {
    text().then((body) => {
      res.set('Cache-Control', 'no-store').type(registry.contentType).send(body);
    }, next);
  };

  return { registry, text, contentType: registry.contentType, instrument, scrape };
}

/** Constant-time comparison of a bearer token (digests of equal length, whatever was sent). */
function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `GET /metrics` on the API's port, behind `Authorization: Bearer <METRICS_TOKEN>`: without it or
 * with another token, 401 problem+json.
 */
export function metricsWithToken(metrics: Metrics, token: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match?.[1] || !tokenMatches(match[1], token)) {
      return sendProblem(req, res, toProblem(new DomainError('unauthenticated', 'UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.')));
    }
    return metrics.scrape(req, res, next);
  };
}

/**
 * A listener of its own serving only `GET /metrics`, without auth (METRICS_PORT on METRICS_HOST,
 * by default 127.0.0.1: reachable by a Prometheus on the same host or network namespace, not from
 * outside). Anything else is 404. In a cluster the primary serves it, with the cluster's metrics.
 * With `log`, says where it listens once it does (`<what> on <host>:<port>/metrics`, with `port`:
 * METRICS_PORT=0 picks one).
 */
export async function serveMetrics(
  metrics: Pick<Metrics, 'text' | 'contentType'>,
  host: string,
  port: number,
  log?: { logger: Pick<Logger, 'info'>; what?: string },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/metrics') {
      metrics.text().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('metrics failed\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found: only GET /metrics is served here\n');
  });
  server.listen(port, host);
  await once(server, 'listening');
  if (log) {
    const chosen = (server.address() as AddressInfo).port;
    log.logger.info({ port: chosen }, `${log.what ?? 'metrics'} on ${host}:${chosen}/metrics`);
  }
  return server;
}
