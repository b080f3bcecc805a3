import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { entities } from './orm.config';
import { serveMetrics, type Metrics } from './http/metrics';
import { pathOf } from './http/operations';
import { JobQueue } from './jobs/queue';
import { startWorker } from './jobs/worker';
import { createLogger, wantsPrettyLog } from './logger';
import { jwtSecretFor } from './secrets';
import { seedDemo } from './seed/demo';
import { createServices } from './services';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLog(config.logFormat, config.env) });
  // A failure nothing awaited (an 'error' event without a listener...) is logged and ends the process with 1.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: stopping');
    process.exit(1);
  });
  const db = await openDatabase(config, logger, entities, { serving: true });
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 2,
        // rediss:// turns TLS on; REDIS_TLS=no-verify accepts a self-signed certificate (Heroku).
        ...(config.redisUrl.startsWith('rediss:') && !config.redisTlsVerify ? { tls: { rejectUnauthorized: false } } : {}),
      })
    : undefined;
  // The single-machine default (WORKER_IN_PROCESS) also works the background jobs in this process.
  const jobs = new JobQueue(config, db, logger, { worker: config.jobs.workerInProcess });
  const services = createServices(config, jwtSecretFor(config), redis, jobs);
  if (config.database.seedDemo) await seedDemo(db, services, logger);
  await jobs.start();
  const worker = config.jobs.workerInProcess ? await startWorker({ queue: jobs, orm: db.orm, services, config, logger }) : undefined;

  const app = createApp({ config, orm: db.orm, services, logger });
  const server = app.listen(config.port, config.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const base = config.publicUrl ?? `http://localhost:${port}`;
  services.sandboxWebhooks.target = `http://127.0.0.1:${port}${pathOf('paymentWebhook', {})}`;
  logger.info({ port, database: db.description, api: `${base}/api/`, swagger: `${base}/swagger/` }, `listening on ${config.host}:${port}`);
  // METRICS_PORT: /metrics on a listener of its own, without auth (docs/operations.md, "Metrics").
  const metrics = app.locals.metrics as Metrics | undefined;
  const metricsServer = metrics && config.metrics.port !== undefined ? await serveMetrics(metrics, config.metrics.host, config.metrics.port) : undefined;
  if (metricsServer) logger.info({ port: (metricsServer.address() as AddressInfo).port }, `metrics on ${config.metrics.host}:${(metricsServer.address() as AddressInfo).port}/metrics`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    jobs.shuttingDown();
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    services.lifecycle.draining = true;
    services.sandboxWebhooks.stop();
    server.close();
    server.closeIdleConnections();
    // Scrapes are short: the metrics listener stops with the API's (its idle connections closed now).
    metricsServer?.close();
    metricsServer?.closeIdleConnections();
    const force = setTimeout(() => {
      server.closeAllConnections();
      metricsServer?.closeAllConnections();
    }, config.http.shutdownTimeoutMs);
    force.unref();
    await once(server, 'close').catch(() => undefined);
    // After the last request (which may still enqueue a job): running jobs get their own grace period.
    await jobs.stop();
    await worker?.close();
    await db.close();
    await redis?.quit();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error('failed to start:', err);
  }
  process.exit(1);
});
