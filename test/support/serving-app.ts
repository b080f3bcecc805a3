import pino, { type Logger } from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { JobQueue } from '../../src/jobs/queue';
import { entities } from '../../src/orm.config';
import { createServices } from '../../src/services';
import { serveForTests, TEST_JWT_SECRET, TEST_WEBHOOK_SECRET, type TestApp } from './app';
import { pooledEnv, pooledUrl } from './pgbouncer';

/**
 * The real app on an existing database, opened the way `main.ts` opens it (`openDatabase` with
 * `serving`): the configured pools and bounded waits (DATABASE_READ_POOL_MAX, DATABASE_*_TIMEOUT_MS
 * in `env`), unlike `startApp`, whose single pool has the database's own timeouts. Response
 * validation is on. No rate limit unless `env` sets one: these tests fire hundreds of requests.
 * `close()` leaves the database; `dropDatabase` is called after, when given. `logger`: to read what it logs.
 */
export async function startServingApp(directUrl: string, env: Record<string, string> = {}, dropDatabase?: () => Promise<void>, logger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })): Promise<TestApp> {
  const databaseUrl = pooledUrl(directUrl);
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    SANDBOX_CONFIRM_MS: '50',
    JOBS_POLL_SECONDS: '0.5',
    RATE_LIMIT_MAX: '0',
    MIGRATE_ON_START: 'false',
    ...pooledEnv(databaseUrl),
    ...env,
    DATABASE_URL: databaseUrl,
  });
  const db = await openDatabase(config, logger, entities, { serving: true });
  const jobs = new JobQueue(config, db, logger);
  await jobs.start();
  const services = createServices(config, TEST_JWT_SECRET, undefined, jobs);
  const app = createApp({ config, orm: db.orm, services, logger });
  const { stopServing, ...served } = await serveForTests(app, services);
  return {
    ...served,
    orm: db.orm,
    services,
    config,
    databaseUrl: directUrl,
    async close() {
      await stopServing();
      await jobs.stop().catch(() => undefined);
      await db.close();
      await dropDatabase?.();
    },
  };
}
