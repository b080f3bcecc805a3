import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { MikroORM } from '@mikro-orm/postgresql';
import createClient, { type Client } from 'openapi-fetch';
import pino from 'pino';
import type { paths } from '../../generated/openapi';
import { createApp } from '../../src/app';
import type { Handlers } from '../../src/handlers';
import { loadConfig, type Config } from '../../src/config';
import { ormOptions } from '../../src/db/orm.config';
import { JobQueue } from '../../src/jobs/queue';
import { createServices, type Services } from '../../src/services';
import { createTestDatabase } from './database';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export type ApiClient = Client<paths>;

export interface TestApp {
  baseUrl: string;
  /** Typed client generated from the contract; anonymous. */
  api: ApiClient;
  /** A typed client that sends `Authorization: Bearer <token>`. */
  as(token: string): ApiClient;
  orm: MikroORM;
  services: Services;
  config: Config;
  /** The database URL (a worker connects with it). */
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * The real app on its own fresh database (cloned from the migrated template), listening on a free
 * port, with response validation on: every test also checks the contract.
 */
export async function startApp(env: Record<string, string> = {}, handlers?: Handlers): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: db.url, JOBS_POLL_SECONDS: '0.5', ...env });
  const orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 20 }));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Like a web process: it sends jobs; tests that work them start a worker (test/support/jobs.ts).
  const jobs = new JobQueue(config, db.url, logger);
  await jobs.start();
  const services = createServices(config, TEST_JWT_SECRET, undefined, jobs);
  const app = createApp({ config, orm, services, handlers, logger });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    api: createClient<paths>({ baseUrl }),
    as: (token) => createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } }),
    orm,
    services,
    config,
    databaseUrl: db.url,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await jobs.stop();
      await orm.close();
      await db.drop();
    },
  };
}
