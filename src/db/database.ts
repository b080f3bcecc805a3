import type { EntityClass } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config, DatabaseSsl } from '../config';
import { startEmbeddedPostgres } from './embedded';
import { ormOptions, type OrmSettings } from './orm-options';
import type { ReplicaMonitorSettings } from './pools';
import { type DatabaseLimits, limitsGaps } from './timeouts';

export interface Database {
  orm: MikroORM;
  /** The connection URL (the job queue and the seed's COPY connect with it too). */
  url: string;
  /** TLS for every connection to it, the ORM's and the others' (pg-boss, the seed's COPY). */
  ssl: DatabaseSsl;
  /** Where the data lives: the external URL (password hidden) or the embedded server. */
  description: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * A process that serves requests or jobs (`main.ts`, `worker.ts`): its pools get the configured
   * bounded waits and read pool (`databaseLimits`). The command-line tools leave it off, so a
   * migration or a seed is never cut by a statement timeout.
   */
  serving?: boolean;
  /**
   * With `serving`: also open the read replicas (DATABASE_REPLICA_URLS), for a process that serves
   * the catalog's reads (default). A job worker reads from the primary only and leaves them.
   */
  replicas?: boolean;
}

/** The bounded waits and the read pool a serving process's database gets (DATABASE_* settings). */
export function databaseLimits(config: Config): DatabaseLimits {
  const d = config.database;
  return {
    readPoolMax: d.readPoolMax,
    acquireTimeoutMs: d.acquireTimeoutMs,
    lockTimeoutMs: d.lockTimeoutMs,
    statementTimeoutMs: d.statementTimeoutMs,
    readStatementTimeoutMs: d.readStatementTimeoutMs,
    pooler: d.pooler,
  };
}

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL when there is none; migrates if configured. */
export async function openDatabase(config: Config, logger: Logger, entities: EntityClass<object>[], { serving = false, replicas: withReplicas = true }: OpenOptions = {}): Promise<Database> {
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres(config.database.embeddedDir, config.database.embeddedPort, logger);
  const url = config.database.url ?? embedded!.url;
  const ssl = embedded ? false : config.database.ssl;
  const settings: OrmSettings = { clientUrl: url, entities, poolMax: config.database.poolMax, debug: config.database.debug, ssl };
  const limits = serving ? databaseLimits(config) : undefined;
  // Migrations at start run before the serving pools exist, on a connection without their limits.
  if (config.database.migrateOnStart && limits) await migrateApart(settings, logger);
  // Replicas (DATABASE_REPLICA_URLS) for a serving process; their monitor stops with the ORM.
  const replicas = limits && withReplicas && config.database.replicas.urls.length ? { urls: config.database.replicas.urls, monitor: replicaMonitor(config, logger) } : undefined;
  const orm = await MikroORM.init(ormOptions({ ...settings, limits, replicas }));
  if (config.database.migrateOnStart && !limits) await migrate(orm, logger);
  if (limits) await checkLimits(orm, limits, logger);
  return {
    orm,
    url,
    ssl,
    description: embedded ? `embedded PostgreSQL on 127.0.0.1:${embedded.port} (${config.database.embeddedDir})` : redact(url),
    async close() {
      await orm.close();
      await embedded?.stop();
    },
  };
}

/**
 * Says at start when the sessions' timeouts are not the ones the app expects (`limitsGaps`): the
 * bounded waits would silently not apply. A warning, not a refusal: the process still serves.
 */
async function checkLimits(orm: MikroORM, limits: DatabaseLimits, logger: Logger): Promise<void> {
  let gaps: string[];
  try {
    gaps = await limitsGaps(orm.em.fork(), limits);
  } catch (err) {
    // A database that is down at start: readiness and the requests say so; this check is no gate.
    logger.warn({ err }, 'database: could not read the session timeouts at start');
    return;
  }
  if (!gaps.length) return;
  const fix =
    limits.pooler === 'pgbouncer'
      ? "behind the pooler, set them in PgBouncer's connect_query or on the role"
      : 'the timeouts sent at connect were dropped: behind PgBouncer or another pooler in transaction mode, set DATABASE_POOLER=pgbouncer and the timeouts in its connect_query or on the role';
  logger.warn({ gaps, pooler: limits.pooler ?? 'none' }, `database: the sessions' timeouts are not the configured ones (${gaps.join('; ')}): ${fix} (docs/scaling.md, "Pooling with PgBouncer")`);
}

/** How the replicas are watched: the configured bound and interval; each change of a replica's state is logged. */
function replicaMonitor(config: Config, logger: Logger): ReplicaMonitorSettings {
  const { maxLagMs, checkIntervalMs } = config.database.replicas;
  return { maxLagMs, checkIntervalMs, log: (level, fields, message) => logger[level](fields, message) };
}

/** Applies pending migrations through an ORM of their own (one connection, no statement or lock timeout), then closes it. */
async function migrateApart(settings: OrmSettings, logger: Logger): Promise<void> {
  const orm = await MikroORM.init(ormOptions({ ...settings, poolMax: 1 }));
  try {
    await migrate(orm, logger);
  } finally {
    await orm.close();
  }
}

/** Applies pending migrations, each in its own transaction. */
export async function migrate(orm: MikroORM, logger?: Logger): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  return applied.map((m) => m.name);
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
