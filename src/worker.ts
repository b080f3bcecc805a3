/**
 * `npm run worker`: the background job worker on its own (production runs one or more of these
 * next to the web processes, with WORKER_IN_PROCESS=false there). Works every registered job and
 * keeps the schedules; on SIGTERM or SIGINT it stops fetching, lets running jobs finish (up to
 * SHUTDOWN_TIMEOUT_MS) and exits 0.
 */
// First: starts OpenTelemetry (when OTEL_TRACING is on) before http, express and pg are loaded.
import { stopTracing } from './tracing-start';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { poolReadings } from './db/pools';
import { createMetrics, serveMetrics } from './http/metrics';
import { entities } from './orm.config';
import { JobQueue } from './jobs/queue';
import { startWorker } from './jobs/worker';
import { createLogger, wantsPrettyLog } from './logger';
import { jwtSecretFor } from './secrets';
import { createServices } from './services';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLog(config.logFormat, config.env) }).child({ process: 'worker' });
  // A failure nothing awaited (an 'error' event without a listener...) is logged and ends the process with 1.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: stopping');
    process.exit(1);
  });
  // Jobs read from the primary: no replicas here (DATABASE_REPLICA_URLS is for the web processes).
  const db = await openDatabase(config, logger, entities, { serving: true, replicas: false });
  const jobs = new JobQueue(config, db, logger, { worker: true });
  const services = createServices(config, jwtSecretFor(config), undefined, jobs);
  await jobs.start();
  // METRICS_PORT: /metrics on a listener of its own, like the web process's (docs/operations.md,
  // "Metrics"): the process, its pools and the job queues. There is no API port for METRICS_TOKEN here.
  const metricsServer =
    config.metrics.port !== undefined
      ? await serveMetrics(createMetrics({ pools: () => poolReadings(db.orm.em), queues: () => jobs.depths() }), config.metrics.host, config.metrics.port, { logger })
      : undefined;

  // The signal handlers come before the worker starts: a stop sent as soon as it logs that it runs
  // (or while it starts) is a graceful one, never the signal's default action.
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let started: Promise<unknown> = Promise.resolve();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    jobs.shuttingDown();
    logger.info({ signal }, 'shutting down: waiting for running jobs');
    await started.catch(() => undefined);
    await jobs.stop();
    await worker?.close();
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    await db.close();
    // Last, so the spans of everything above are exported too.
    await stopTracing();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  started = startWorker({ queue: jobs, orm: db.orm, services, config, logger }).then((w) => (worker = w));
  await started;
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
