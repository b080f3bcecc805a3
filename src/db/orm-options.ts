import 'reflect-metadata';
import { join } from 'node:path';
import { type EntityClass, type Options, ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { knexLog, ResilientPostgreSqlDriver } from './pools';
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
}

/** MikroORM options for a database URL and the entities it maps. */
export function ormOptions({ clientUrl, entities, poolMax = 10, debug = false, snapshot = false, ssl = false, limits }: OrmSettings): Options<PostgreSqlDriver> {
  // MikroORM reads host, port, user, password and database from the URL and drops its query
  // string (so `?sslmode=` never reaches pg): TLS is passed to the driver explicitly.
  const tls = ssl ? { ssl } : {};
  return {
    driver: ResilientPostgreSqlDriver,
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    discovery: { warnWhenNoEntities: true },
    forceUtcTimezone: true,
    pool: { min: 0, max: poolMax, ...(limits ? { acquireTimeoutMillis: limits.acquireTimeoutMs } : {}) },
    driverOptions: { log: knexLog, connection: { ...tls, ...(limits ? sessionSettings(limits, 'write') : {}) } },
    // The read pool: the same server again, for reads outside a transaction (src/db/pools.ts). A
    // replica's pool settings are its driverOptions' (MikroORM gives every replica the main `pool`).
    ...(limits?.readPoolMax
      ? {
          replicas: [{ name: 'read', driverOptions: { pool: { max: limits.readPoolMax }, connection: { ...tls, ...sessionSettings(limits, 'read') } } }],
          preferReadReplicas: true,
        }
      : {}),
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
