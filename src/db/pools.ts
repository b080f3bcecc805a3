import type { AnyEntity, Configuration, ConnectionType, EntityData, LoggingOptions, QueryResult, Transaction } from '@mikro-orm/core';
import { type EntityManager, type Knex, PostgreSqlConnection, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Client, type ClientConfig } from 'pg';
import { isDeadConnection, isPlainRead, replicaFailure } from './faults';
import { probeTimeoutMs, type ReplicaReading, ReplicaSet, type ReplicaSetOptions, replicaRoute } from './replicas';

/**
 * The app's two pools and what keeps them healthy.
 *
 * - **Writes and reads apart.** With a read pool configured (DATABASE_READ_POOL_MAX), MikroORM's
 *   `replicas` option gives the same server a second pool, `read`: every query MikroORM builds
 *   outside a transaction already goes there (`preferReadReplicas`), and so do the raw statements
 *   of `em.execute` that only read (this driver) and the catalog's prepared statements
 *   (`executePrepared`). Transactions and writes keep the `write` pool, so writers stuck on a lock
 *   can take every writer's connection and the catalog still reads.
 * - **Dead connections are dropped, and a read is retried once.** A connection the server ended
 *   (a restart's 57P01, a broken socket) is marked when its query fails, before knex gives it back
 *   to the pool, so the pool destroys it instead of lending it again; a read outside a transaction
 *   that failed that way runs once more, on another connection. Writes never run twice.
 * - **Replicas** (DATABASE_REPLICA_URLS, src/db/replicas.ts): each is a MikroORM replica of its
 *   own (`replica-0`, ...), with the read pool's size and sessions. A read outside a transaction
 *   goes to a healthy one when the request allows it (the same one for the whole request while it
 *   stays healthy), else to the read pool (the primary), else to the writers' pool. A read that
 *   fails because of the replica runs again on the primary, and a replica that is down is skipped
 *   at once. The monitor checks each server on a connection of its own (`MonitorClient`).
 */

/** A pg client as knex's pool keeps it: `__knex__disposed` makes the pool destroy it on its next acquire. */
export interface PooledConnection {
  __knexUid?: string;
  __knex__disposed?: unknown;
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** The parts of a knex client (`em.getKnex().client`) the pools use. */
export interface PoolClient {
  acquireConnection(): Promise<PooledConnection>;
  releaseConnection(connection: PooledConnection): Promise<unknown>;
  on(event: 'query-error', listener: (err: unknown, query: { __knexUid?: string }) => void): unknown;
  pool?: TarnPool;
}

/** tarn's pool, as far as readiness reads it (`max` is protected in its typings, a plain property at run time). */
export interface TarnPool {
  max?: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  on(event: 'release', listener: (connection: PooledConnection) => void): void;
  on(event: 'acquireSuccess', listener: (eventId: number, connection: PooledConnection) => void): void;
}

/** A pool whose connections are all lent out, with requests queued, is stuck when none has moved for this long. */
export const STALLED_AFTER_MS = 1000;

/** When each pool last lent or took back a connection (see `isSaturated`). */
const lastMoved = new WeakMap<TarnPool, number>();

/**
 * Runs `run` on a connection of `client`'s pool. A failure that says the connection is dead marks
 * it for the pool to destroy; with `retry`, the work then runs once more on another connection.
 * Only for reads: a write must not run twice.
 */
export async function onPooledConnection<T>(client: PoolClient, run: (connection: PooledConnection) => Promise<T>, retry: boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const connection = await client.acquireConnection();
    try {
      return await run(connection);
    } catch (err) {
      if (!isDeadConnection(err)) throw err;
      connection.__knex__disposed ??= err;
      if (!retry || attempt > 1) throw err;
    } finally {
      await client.releaseConnection(connection);
    }
  }
}

/**
 * Watches a pool. It marks the connections whose query failed because they are dead: knex reports
 * the failure (`query-error`, with the connection's id) before it releases the connection, and the
 * pool announces the release before lending it to anyone, so the mark is always in time. Without
 * it tarn, which lends the most recently released connection first, would hand a connection the
 * server just ended (57P01 arrives before the socket closes) to the very next query. And it notes
 * when the pool last moved, for readiness.
 */
export function watchPool(client: PoolClient): void {
  const pool = client.pool;
  if (!pool) return;
  const dead = new Set<string>();
  client.on('query-error', (err, query) => {
    if (query?.__knexUid && isDeadConnection(err)) dead.add(query.__knexUid);
  });
  pool.on('release', (connection) => {
    lastMoved.set(pool, Date.now());
    if (connection.__knexUid && dead.delete(connection.__knexUid)) connection.__knex__disposed ??= 'the server ended this connection';
  });
  pool.on('acquireSuccess', () => void lastMoved.set(pool, Date.now()));
}

/**
 * knex's own log lines (it writes them with console.log, which would break the JSON log on
 * stdout): the "Connection Error" it reports each time the pool drops a dead connection is
 * expected here and says nothing the request's own outcome does not (a retried read, or a 503 the
 * problem handler logs); anything else goes to stderr.
 */
export const knexLog = {
  warn: (message: unknown) => {
    if (!String(message).startsWith('Connection Error')) console.warn(message);
  },
  error: (message: unknown) => console.error(message),
  deprecate: (message: unknown) => console.warn(message),
  debug: (message: unknown) => console.debug(message),
};

/** A MikroORM connection (one pool) that drops dead connections and retries a read that met one. */
export class ResilientConnection extends PostgreSqlConnection {
  override createKnex(): void {
    super.createKnex();
    watchPool(this.getKnex().client as PoolClient);
  }

  /**
   * knex hands out a transaction even when its BEGIN failed (a connection that died after it was
   * lent): the failure only rejects the transaction's execution promise, and every statement after
   * it fails with "Transaction query already complete", which says nothing of the cause. Here the
   * BEGIN's own error is thrown instead (a dead connection: 503, src/db/faults.ts).
   */
  override async begin(options?: Parameters<PostgreSqlConnection['begin']>[0]): Promise<Knex.Transaction> {
    const trx = await super.begin(options);
    if (trx.isCompleted()) {
      const cause: unknown = await trx.executionPromise.then(
        () => undefined,
        (err: unknown) => err,
      );
      throw cause instanceof Error ? cause : new Error('Connection terminated unexpectedly: the transaction could not begin');
    }
    return trx;
  }

  /** A read that met a dead connection runs again on this pool (a replica's goes to the primary instead). */
  protected readonly retriesDeadReads: boolean = true;

  override async execute<T extends QueryResult | EntityData<AnyEntity> | EntityData<AnyEntity>[] = EntityData<AnyEntity>[]>(
    queryOrKnex: string | Knex.QueryBuilder | Knex.Raw,
    params: unknown[] = [],
    method: 'all' | 'get' | 'run' = 'all',
    ctx?: Transaction,
    loggerContext?: LoggingOptions,
  ): Promise<T> {
    if (!this.retriesDeadReads || ctx || method === 'run' || typeof queryOrKnex !== 'string' || !isPlainRead(queryOrKnex)) {
      return super.execute<T>(queryOrKnex, params, method, ctx, loggerContext);
    }
    try {
      return await super.execute<T>(queryOrKnex, params, method, undefined, loggerContext);
    } catch (err) {
      // The dead connection was marked and released: this runs on another one, or fails to get one.
      if (!isDeadConnection(err)) throw err;
      return super.execute<T>(queryOrKnex, params, method, undefined, loggerContext);
    }
  }
}

/**
 * The replica monitor's connection to one server (the primary, or a replica), apart from the
 * request pools: a check never waits behind requests for a connection (which would mark a busy but
 * healthy replica down), and a request never waits behind a check. Connecting and each statement
 * are bounded by `timeoutMs`; after a failure the connection is ended and the next check connects
 * again. Its query only settles once that end did: a frozen server (whose socket stays open) keeps
 * the check in flight, and the monitor does not start another one meanwhile (src/db/replicas.ts).
 */
export class MonitorClient {
  private client: Client | undefined;
  private closed = false;

  constructor(private readonly config: ClientConfig) {}

  /** The connection settings of `connection` (a MikroORM connection: its URL, TLS and sessions), for the monitor. */
  static settingsOf(connection: PostgreSqlConnection, name: string, timeoutMs: number): ClientConfig {
    const knexOptions = (connection as unknown as { getKnexOptions(type: string): Knex.Config }).getKnexOptions('pg');
    return {
      ...(knexOptions.connection as ClientConfig),
      application_name: `ecommerce-backend:${name}`,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      keepAlive: true,
    };
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    if (this.closed) throw new Error('the replica monitor is stopped');
    let client = this.client;
    try {
      if (!client) {
        client = this.client = new Client(this.config);
        // A socket that breaks between checks: the next check's query fails and reconnects.
        client.on('error', () => undefined);
        await client.connect();
      }
      return (await client.query<Record<string, unknown>>(sql)).rows;
    } catch (err) {
      if (this.client === client) this.client = undefined;
      await client?.end().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** The name of the `i`th replica's connection (and its pool in the metrics). */
const REPLICA_PREFIX = 'replica-';
export const replicaName = (i: number) => `${REPLICA_PREFIX}${i}`;

/** Where a replica's reads go when it fails, and whom to tell. */
interface ReplicaFallback {
  set: ReplicaSet<ReplicaConnection>;
  primary(): ResilientConnection;
}

/**
 * A replica's connection (one pool): a read that fails because of the replica (src/db/faults.ts,
 * `replicaFailure`) runs on the primary instead, and the replica is skipped from then on, so no
 * request fails because a replica did.
 */
export class ReplicaConnection extends ResilientConnection {
  protected override readonly retriesDeadReads = false;
  fallback?: ReplicaFallback;

  override async execute<T extends QueryResult | EntityData<AnyEntity> | EntityData<AnyEntity>[] = EntityData<AnyEntity>[]>(
    queryOrKnex: string | Knex.QueryBuilder | Knex.Raw,
    params: unknown[] = [],
    method: 'all' | 'get' | 'run' = 'all',
    ctx?: Transaction,
    loggerContext?: LoggingOptions,
  ): Promise<T> {
    try {
      return await super.execute<T>(queryOrKnex, params, method, ctx, loggerContext);
    } catch (err) {
      // Inside a transaction the failure is the transaction's own (it never runs on a replica).
      if (ctx) throw err;
      const primary = this.fallbackFor(err);
      if (!primary) throw err;
      return primary.execute<T>(queryOrKnex, params, method, undefined, loggerContext);
    }
  }

  /** The primary's connection to run a read on after `err` on this replica (which is skipped if it is down), or undefined. */
  fallbackFor(err: unknown): ResilientConnection | undefined {
    const kind = replicaFailure(err);
    if (!kind || !this.fallback) return undefined;
    this.fallback.set.fail(this, err, kind);
    return this.fallback.primary();
  }

  /** Its name (`replica-0`...): in logs, readiness and the metrics. */
  get name(): string {
    return this.options.name ?? 'replica';
  }

  /** A statement on a connection of this replica's pool, straight through knex (no fallback, no query log): what its sessions are. */
  async probe(sql: string): Promise<Record<string, unknown>[]> {
    const result = await this.getKnex().raw<{ rows: Record<string, unknown>[] }>(sql);
    return result.rows;
  }
}

/** The replica monitor's settings (src/db/replicas.ts), but the primary's probe, which the driver provides. */
export type ReplicaMonitorSettings = Omit<ReplicaSetOptions, 'probePrimary'>;

/**
 * PostgreSqlDriver over `ResilientConnection`s, whose raw reads outside a transaction
 * (`em.execute`) go to the read pool when there is one; MikroORM itself sends only the queries it
 * builds there. With replicas (`withReplicaMonitor`), `getConnection('read')` picks a healthy
 * replica for the requests that allow it.
 */
export class ResilientPostgreSqlDriver extends PostgreSqlDriver {
  /** The same server's read pool, if configured: where reads go when no replica may serve them. */
  private readonly readPool: ResilientConnection | undefined;
  /** The replicas' connections (DATABASE_REPLICA_URLS), in order. */
  readonly servers: ReplicaConnection[];
  /** The replicas and their health; absent without replicas. */
  replicaSet: ReplicaSet<ReplicaConnection> | undefined;
  /** The monitor's own connections (the primary's and each replica's). */
  private monitorClients: MonitorClient[] = [];

  constructor(config: Configuration) {
    super(config);
    // PostgreSqlDriver builds plain connections (not yet connected); these replace them.
    const self = this as unknown as { connection: ResilientConnection; replicas: ResilientConnection[] };
    self.connection = new ResilientConnection(this.config);
    self.replicas = this.createReplicas((options) =>
      options.name?.startsWith(REPLICA_PREFIX) ? new ReplicaConnection(this.config, options, 'read') : new ResilientConnection(this.config, options, 'read'),
    ) as ResilientConnection[];
    this.servers = self.replicas.filter((c): c is ReplicaConnection => c instanceof ReplicaConnection);
    this.readPool = self.replicas.find((c) => !(c instanceof ReplicaConnection));
  }

  /** How the replicas are watched: only a subclass made by `withReplicaMonitor` has replicas (src/db/orm-options.ts). */
  protected replicaMonitor(): ReplicaMonitorSettings | undefined {
    return undefined;
  }

  private primaryReadConnection(): ResilientConnection {
    return this.readPool ?? (this.connection as ResilientConnection);
  }

  override async connect(): Promise<ReturnType<PostgreSqlDriver['connect']> extends Promise<infer C> ? C : never> {
    const connection = await super.connect();
    const monitor = this.replicaMonitor();
    if (this.servers.length > 0 && monitor) {
      if (!this.replicaSet) {
        const timeoutMs = probeTimeoutMs(monitor.checkIntervalMs);
        const client = (c: PostgreSqlConnection, name: string) => {
          const monitorClient = new MonitorClient(MonitorClient.settingsOf(c, name, timeoutMs));
          this.monitorClients.push(monitorClient);
          return monitorClient;
        };
        const primary = client(this.connection, 'monitor');
        const set = new ReplicaSet(
          this.servers.map((c) => {
            const probe = client(c, `${c.name}-monitor`);
            return { name: c.name, connection: c, probe: (sql: string) => probe.query(sql) };
          }),
          { ...monitor, probePrimary: (sql) => primary.query(sql) },
        );
        for (const c of this.servers) c.fallback = { set, primary: () => this.primaryReadConnection() };
        this.replicaSet = set;
      }
      this.replicaSet.start();
    }
    return connection;
  }

  override async close(force?: boolean): Promise<void> {
    this.replicaSet?.stop();
    const clients = this.monitorClients;
    this.monitorClients = [];
    this.replicaSet = undefined;
    await Promise.all(clients.map((c) => c.close()));
    await super.close(force);
  }

  /**
   * `write`: the primary's writers. `read`: a healthy replica when the current request allows it
   * (src/db/replicas.ts; the one its first read picked, while that one stays healthy), else the
   * primary's read pool, else its writers' pool.
   */
  override getConnection(type: ConnectionType = 'write'): ReturnType<PostgreSqlDriver['getConnection']> {
    if (type === 'write') return this.connection;
    const route = this.replicaSet ? replicaRoute() : undefined;
    if (route) {
      const replica = this.replicaSet!.pick(route.server as ReplicaConnection | undefined);
      if (replica) {
        route.server = replica;
        return replica;
      }
    }
    return this.primaryReadConnection();
  }

  override async execute<T extends QueryResult | EntityData<AnyEntity> | EntityData<AnyEntity>[] = EntityData<AnyEntity>[]>(
    queryOrKnex: string | Knex.QueryBuilder | Knex.Raw,
    params: unknown[] = [],
    method: 'all' | 'get' | 'run' = 'all',
    ctx?: Transaction,
    loggerContext?: LoggingOptions,
  ): Promise<T> {
    if (!ctx && this.replicas.length > 0 && method !== 'run' && typeof queryOrKnex === 'string' && isPlainRead(queryOrKnex)) {
      return this.rethrow(this.getConnection('read').execute<T>(queryOrKnex, params, method, undefined, loggerContext));
    }
    return super.execute<T>(queryOrKnex, params, method, ctx, loggerContext);
  }
}

/**
 * A driver class that watches its replicas with `settings` (the configured lag bound, interval and
 * logger): MikroORM builds the driver itself, from its class.
 */
export function withReplicaMonitor(settings: ReplicaMonitorSettings): typeof ResilientPostgreSqlDriver {
  return class extends ResilientPostgreSqlDriver {
    protected override replicaMonitor(): ReplicaMonitorSettings {
      return settings;
    }
  };
}

/** `em`'s driver when it is this one (always in the app; a test's own ORM may differ). */
function resilientDriver(em: EntityManager): ResilientPostgreSqlDriver | undefined {
  const driver: unknown = em.getDriver();
  return driver instanceof ResilientPostgreSqlDriver ? driver : undefined;
}

/** The replica set of `em`'s driver, if it has replicas (the HTTP adapters count their primary reads on it). */
export function replicaSetOf(em: EntityManager): ReplicaSet<ReplicaConnection> | undefined {
  return resilientDriver(em)?.replicaSet;
}

/** The replicas of `em`'s driver as readiness and the metrics see them (none without replicas). */
export function replicaReadings(em: EntityManager): ReplicaReading[] {
  return replicaSetOf(em)?.readings() ?? [];
}

/** The replicas and the reads that went to the primary instead, for the metrics (src/http/metrics.ts). */
export function replicasReading(em: EntityManager): { replicas: ReplicaReading[]; primaryReads: Record<string, number> } {
  const set = replicaSetOf(em);
  return { replicas: set?.readings() ?? [], primaryReads: { ...set?.primaryReads } };
}

/** The knex client of one of `em`'s pools (`read` is the write pool when there is no read pool). */
export function poolClient(em: EntityManager, type: 'read' | 'write'): PoolClient {
  const client: PoolClient = em.getKnex(type).client;
  return client;
}

/**
 * The app's pools for the metrics (src/http/metrics.ts): `write`, and `read` when a read pool is
 * configured (without one, reads share the write pool and it is counted once).
 */
export function poolReadings(em: EntityManager): { pool: string; inUse: number; idle: number; waiting: number }[] {
  const write = poolClient(em, 'write').pool;
  const read = poolClient(em, 'read').pool;
  const readings = [];
  const pools: [string, TarnPool | undefined][] = [
    ['write', write],
    ['read', read !== write ? read : undefined],
    // Each replica's own pool (replica-0, ...), whichever request is reading.
    ...(resilientDriver(em)?.servers ?? []).map((c): [string, TarnPool | undefined] => [c.name, (c.getKnex().client as PoolClient).pool]),
  ];
  for (const [name, pool] of pools) {
    if (pool) readings.push({ pool: name, inUse: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires() });
  }
  return readings;
}

/**
 * The pool is stuck: every connection is lent out, requests are queued for one, and none has been
 * lent or returned for STALLED_AFTER_MS. A pool that is merely busy (a burst queued for a few
 * milliseconds while connections come and go) is not: readiness must not flap under load.
 */
export function isSaturated(client: PoolClient, now = Date.now()): boolean {
  const pool = client.pool;
  if (!pool || typeof pool.max !== 'number') return false;
  if (pool.numUsed() < pool.max || pool.numPendingAcquires() === 0) return false;
  return now - (lastMoved.get(pool) ?? 0) >= STALLED_AFTER_MS;
}
