import type { EntityClass } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config, DatabaseSsl } from '../config';
import { startEmbeddedPostgres } from './embedded';
import { ormOptions } from './orm-options';

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

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL when there is none; migrates if configured. */
export async function openDatabase(config: Config, logger: Logger, entities: EntityClass<object>[]): Promise<Database> {
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres(config.database.embeddedDir, config.database.embeddedPort, logger);
  const url = config.database.url ?? embedded!.url;
  const ssl = embedded ? false : config.database.ssl;
  const orm = await MikroORM.init(ormOptions({ clientUrl: url, entities, poolMax: config.database.poolMax, debug: config.database.debug, ssl }));
  if (config.database.migrateOnStart) await migrate(orm, logger);
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

/** Applies pending migrations, each in its own transaction. */
export async function migrate(orm: MikroORM, logger?: Logger): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  return applied.map((m) => m.name);
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
