/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import { loadConfig } from '../config';
import { migrate, openDatabase } from '../db/database';
import { entities } from '../orm.config';
import { createLogger } from '../logger';

async function run(): Promise<void> {
  const config = loadConfig({ ...process.env, MIGRATE_ON_START: 'false' });
  const logger = createLogger(config.logLevel === 'silent' ? 'silent' : 'info');
  const db = await openDatabase(config, logger, entities);
  try {
    const applied = await migrate(db.orm, logger);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  } finally {
    await db.close();
  }
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
