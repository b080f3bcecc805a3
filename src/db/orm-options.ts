import 'reflect-metadata';
import { join } from 'node:path';
import { type EntityClass, type Options, ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

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
}

/** MikroORM options for a database URL and the entities it maps. */
export function ormOptions({ clientUrl, entities, poolMax = 10, debug = false, snapshot = false, ssl = false }: OrmSettings): Options<PostgreSqlDriver> {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    discovery: { warnWhenNoEntities: true },
    forceUtcTimezone: true,
    pool: { min: 0, max: poolMax },
    // MikroORM reads host, port, user, password and database from the URL and drops its query
    // string (so `?sslmode=` never reaches pg): TLS is passed to the driver explicitly.
    ...(ssl ? { driverOptions: { connection: { ssl } } } : {}),
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
