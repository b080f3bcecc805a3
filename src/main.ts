// First: starts OpenTelemetry (when OTEL_TRACING is on) before http, express and pg are loaded.
import { stopTracing } from './tracing-start';
import cluster from 'node:cluster';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { runPrimary } from './cluster';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { entities } from './orm.config';
import { clusterWorkerLabel } from './http/cluster-metrics';
import { serveMetrics, type Metrics } from './http/metrics';
import { pathOf } from './http/operations';
import { JobQueue } from './jobs/queue';
import { startWorker } from './jobs/worker';
import { createLogger, wantsPrettyLog } from './logger';
import { connectRedis } from './redis';
import { jwtSecretFor } from './secrets';
import { seedDemo } from './seed/demo';
import { createServices } from './services';

async function main(): Promise<void> {
  const config = loadConfig();
  const rootLogger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLog(config.logFormat, config.env) });
  // In a cluster every line says which web process (1..WEB_CONCURRENCY) wrote it, besides its pid.
  const logger = cluster.isWorker ? rootLogger.child({ worker: clusterWorkerLabel() }) : rootLogger;
  // A failure nothing awaited (an 'error' event without a listener...) is logged and ends the process with 1.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: stopping');
    process.exit(1);
  });
  // WEB_CONCURRENCY > 1: this process only forks and watches the web processes (src/cluster.ts).
  if (cluster.isPrimary && config.webConcurrency > 1) return runPrimary(config, logger);
  // A stop asked for while starting (a cluster's primary stopping as this process starts) is kept
  // and done as any other once started: the process exits 0 instead of dying by the signal. Asked
  // again before that (a second Ctrl+C on a start that hangs), it exits at once, with 1.
  let stop: ((signal: string) => void) | undefined = undefined;
  let stopAsked: string | undefined;
  const onSignal = (signal: string) => {
    if (stop) return stop(signal);
    if (stopAsked) {
      logger.warn({ signal }, 'asked again to stop while starting: stopping now');
      process.exit(1);
    }
    stopAsked = signal;
    logger.info({ signal }, 'asked to stop while starting: stopping once started');
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const db = await openDatabase(config, logger, entities, { serving: true });
  // Bounded waits, and a fallback to memory while Redis does not answer (src/redis.ts).
  const redis = config.redisUrl ? connectRedis(config, logger) : undefined;
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
  // METRICS_PORT: /metrics on a listener of its own, without auth (docs/operations.md, "Metrics");
  // in a cluster the primary serves it, for every web process.
  const metrics = app.locals.metrics as Metrics | undefined;
  const metricsServer =
    metrics && config.metrics.port !== undefined && !cluster.isWorker ? await serveMetrics(metrics, config.metrics.host, config.metrics.port, { logger }) : undefined;

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
    // Redis away (no offline queue): the quit fails at once or after REDIS_TIMEOUT_MS; just drop the connection.
    await redis?.quit().catch(() => redis.disconnect());
    // Last, so the spans of everything above are exported too.
    await stopTracing();
    logger.info('stopped');
    process.exit(0);
  };
  stop = (signal) => void shutdown(signal);
  if (stopAsked) stop(stopAsked);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error('failed to start:', err);
  }
  process.exit(1);
});
