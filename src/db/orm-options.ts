import 'reflect-metadata';
import { join } from 'node:path';
import { type EntityClass, type Options, ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { knexLog, replicaName, type ReplicaMonitorSettings, ResilientPostgreSqlDriver, withReplicaMonitor } from './pools';
import { type DatabaseLimits, sessionSettings } from './timeouts';

const projectRoot = join(__dirname, '..', '..', __dirname.includes(`${join('dist', 'src')}`) ? '..' : '');
const compiled = __filename.endsWith('.js');

export interface OrmSettings {
  clientUrl: string;
  /** Every entity the app maps (the composition root collects them from the contexts). */
  entities: EntityClass<object>[];
  poolMax?: number;
  debug?: boolean;
  /**
   * Keep migrations/.snapshot.json: only for the CLI that creates migrations. MikroORM rewrites the
   * snapshot from the live database after every migration run, which would record objects the
   * entities do not map (the search column, trigram indexes) and make the next diff drop them.
   */
  snapshot?: boolean;
  /** TLS options for the `pg` driver (`Config.database.ssl`); false or absent: no TLS. */
  ssl?: false | { rejectUnauthorized: boolean };
  /**
   * A serving process's bounded waits and read pool (`databaseLimits(config)`); absent (the CLI,
   * migrations, the seed): one pool, the database's own timeouts, knex's 60 s acquire wait.
   */
  limits?: DatabaseLimits;
  /**
   * Streaming replicas for the catalog's reads (DATABASE_REPLICA_URLS) and how they are watched;
   * only with `limits` (a serving process): the others read from the primary anyway.
   */
  replicas?: { urls: string[]; monitor: ReplicaMonitorSettings };
}

/** How long pg waits for a replica's answer when no statement timeout is configured. */
const REPLICA_QUERY_TIMEOUT_MS = 30_000;

/** MikroORM options for a database URL and the entities it maps. */
export function ormOptions({ clientUrl, entities, poolMax = 10, debug = false, snapshot = false, ssl = false, limits, replicas }: OrmSettings): Options<PostgreSqlDriver> {
  // MikroORM reads host, port, user, password and database from the URL and drops its query
  // string (so `?sslmode=` never reaches pg): TLS is passed to the driver explicitly.
  const tls = ssl ? { ssl } : {};
  // Each replica: a pool of the read pool's size (the writers' without one), the readers' sessions
  // and the primary's TLS, named in pg_stat_activity so an operator sees which server is which.
  const monitored = limits && replicas?.urls.length ? replicas : undefined;
  const servers =
    limits && monitored
      ? monitored.urls.map((url, i) => ({
          name: replicaName(i),
          clientUrl: url,
          driverOptions: {
            log: knexLog,
            pool: { max: limits.readPoolMax || poolMax },
            connection: {
              ...tls,
              ...sessionSettings(limits, 'read'),
              application_name: `ecommerce-backend:${replicaName(i)}`,
              // A replica that stops answering on an open socket (a frozen host) never cancels its
              // statements itself: pg gives up a second after their timeout, and the read runs on the
              // primary (src/db/faults.ts counts "Query read timeout" as a dead connection). Always
              // bounded, also when the statement timeouts are off (0): then 30 s.
              query_timeout: (limits.readStatementTimeoutMs || limits.statementTimeoutMs || REPLICA_QUERY_TIMEOUT_MS) + 1000,
            },
          },
        }))
      : [];
  const readPool = limits?.readPoolMax
    ? [{ name: 'read', driverOptions: { pool: { max: limits.readPoolMax }, connection: { ...tls, ...sessionSettings(limits, 'read') } } }]
    : [];
  return {
    driver: monitored ? withReplicaMonitor(monitored.monitor) : ResilientPostgreSqlDriver,
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    discovery: { warnWhenNoEntities: true },
    forceUtcTimezone: true,
    pool: { min: 0, max: poolMax, ...(limits ? { acquireTimeoutMillis: limits.acquireTimeoutMs } : {}) },
    driverOptions: { log: knexLog, connection: { ...tls, ...(limits ? sessionSettings(limits, 'write') : {}) } },
    // The read pool: the same server again, for reads outside a transaction, and the replicas
    // (src/db/pools.ts). A replica's pool settings are its driverOptions' (MikroORM gives every
    // replica the main `pool`).
    ...(readPool.length || servers.length ? { replicas: [...readPool, ...servers], preferReadReplicas: true } : {}),
    debug,
    // Query logs only when asked for (DATABASE_DEBUG); the app logs what matters (e.g. migrations) itself.
    logger: debug ? (message: string) => console.log(message) : () => undefined,
    allowGlobalContext: false,
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: join(projectRoot, compiled ? 'dist/migrations' : 'migrations'),
      pathTs: join(projectRoot, 'migrations'),
      glob: compiled ? '!(*.d).js' : '*.ts',
      transactional: true,
      allOrNothing: true,
      snapshot,
      snapshotName: '.snapshot',
      emit: 'ts',
    },
  };
}
