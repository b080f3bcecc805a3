import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { MikroORM } from '@mikro-orm/postgresql';
import pino, { type Logger } from 'pino';
import { createApiClient, type ApiClient } from '../../generated/sdk/index';
import { createApp } from '../../src/app';
import type { Handlers } from '../../src/handlers';
import { loadConfig, type Config } from '../../src/config';
import { ormOptions } from '../../src/orm.config';
import { serveMetrics, type Metrics } from '../../src/http/metrics';
import { JobQueue } from '../../src/jobs/queue';
import { createServices, type Services } from '../../src/services';
import { createTestDatabase } from './database';
import { pooledEnv, pooledUrl } from './pgbouncer';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export type { ApiClient };

export interface TestApp {
  baseUrl: string;
  /** The generated SDK's client (generated/sdk), so every test also exercises the SDK; anonymous. */
  api: ApiClient;
  /** A typed client that sends `Authorization: Bearer <token>`. */
  as(token: string): ApiClient;
  orm: MikroORM;
  services: Services;
  config: Config;
  /**
   * The database's URL, direct (for the test's own sessions: locks held "by another client",
   * assertions). The app connects with `pooledUrl(databaseUrl)`, and so should a worker or server
   * process of it: through the run's PgBouncer when there is one (test/support/pgbouncer.ts).
   */
  databaseUrl: string;
  /** With METRICS_PORT: the metrics listener's base URL (like src/main.ts starts it). */
  metricsUrl?: string;
  close(): Promise<void>;
}

/**
 * The real app on its own fresh database (cloned from the migrated template), listening on a free
 * port, with response validation on: every test also checks the contract.
 */
/**
 * Serves an app on a free local port, with the SDK's clients for it; the sandbox provider's webhooks
 * come back to it. `stopServing` stops the webhooks and closes every connection.
 */
export async function serveForTests(app: ReturnType<typeof createApp>, services: Services) {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  // Idle keep-alive connections are closed by the client (fetch: after 4 s), never by the server
  // while the client may be reusing them (Node's default is 5 s: a race under load, ECONNRESET).
  server.keepAliveTimeout = 60_000;
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  services.sandboxWebhooks.target = `${baseUrl}/api/payment/webhook/`;
  return {
    baseUrl,
    api: createApiClient({ baseUrl }),
    as: (token: string) => createApiClient({ baseUrl, token }),
    async stopServing(): Promise<void> {
      services.sandboxWebhooks.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export async function startApp(env: Record<string, string> = {}, handlers?: Handlers, options: { logger?: Logger } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const url = pooledUrl(db.url);
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    SANDBOX_CONFIRM_MS: '50',
    DATABASE_URL: url,
    JOBS_POLL_SECONDS: '0.5',
    ...pooledEnv(url),
    ...env,
  });
  const orm = await MikroORM.init(ormOptions({ clientUrl: url, poolMax: 20 }));
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Like a web process: it sends jobs; tests that work them start a worker (test/support/jobs.ts).
  const jobs = new JobQueue(config, { url, ssl: false }, logger);
  await jobs.start();
  const services = createServices(config, TEST_JWT_SECRET, undefined, jobs);
  const app = createApp({ config, orm, services, handlers, logger });
  const { stopServing, ...served } = await serveForTests(app, services);
  const metrics = app.locals.metrics as Metrics | undefined;
  const metricsServer = metrics && config.metrics.port !== undefined ? await serveMetrics(metrics, config.metrics.host, config.metrics.port) : undefined;
  return {
    ...served,
    orm,
    services,
    config,
    databaseUrl: db.url,
    ...(metricsServer && { metricsUrl: `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}` }),
    async close() {
      if (metricsServer) await new Promise((r) => metricsServer.close(r));
      await stopServing();
      await jobs.stop();
      await orm.close();
      await db.drop();
    },
  };
}
