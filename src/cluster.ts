/**
 * WEB_CONCURRENCY > 1: the primary process of a node:cluster (docs/scaling.md, "Many processes").
 * It serves nothing and opens no database: it forks the web processes (each runs src/main.ts's
 * server, sharing the port: the primary hands connections out round-robin), restarts one that dies,
 * serves the cluster's metrics on METRICS_PORT, and on SIGTERM or SIGINT stops them all gracefully.
 *
 * Once-only work at start (migrations, demo data) is done by the first web process alone: the others
 * are forked after it listens, with MIGRATE_ON_START and SEED_DEMO off. With WORKER_IN_PROCESS only
 * that first process (and whichever replaces it) works the background jobs: one job worker per
 * cluster, as configured (JOBS_CONCURRENCY, JOBS_POOL_MAX); more job throughput comes from
 * `npm run worker` processes. pg-boss hands each job to one process at a time (SKIP LOCKED);
 * delivery is still at least once (a job whose process died is retried), so handlers are idempotent
 * (docs/architecture.md, "Idempotency").
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config';
import { primaryClusterMetrics, WORKER_SLOT_VARIABLE } from './http/cluster-metrics';
import { metricsExposed, serveMetrics } from './http/metrics';
import { TRACING_STOP_TIMEOUT_MS } from './tracing-start';

/** A web process that lived less than this before dying counts as a crash loop: the next restart waits longer. */
const STABLE_MS = 30_000;
const RESTART_DELAY_MS = 500;
const RESTART_DELAY_MAX_MS = 30_000;
/** Beyond the web processes' own bounds (below), before the ones still running are killed. */
const SHUTDOWN_MARGIN_MS = 5_000;

/**
 * How long a web process may take to stop (src/main.ts's shutdown): draining requests, then its
 * running jobs (SHUTDOWN_TIMEOUT_MS each), Redis's quit (REDIS_TIMEOUT_MS at most), the last spans'
 * export (with tracing on, TRACING_STOP_TIMEOUT_MS at most), and a margin for closing the pools.
 */
function stopDeadlineMs(config: Pick<Config, 'http' | 'redisUrl' | 'redisTimeoutMs' | 'tracing'>): number {
  return (
    2 * config.http.shutdownTimeoutMs +
    (config.redisUrl ? config.redisTimeoutMs : 0) +
    (config.tracing.enabled ? TRACING_STOP_TIMEOUT_MS : 0) +
    SHUTDOWN_MARGIN_MS
  );
}

/**
 * The settings a web process is forked with: its place, and once-only work left to the first one.
 * (cluster.fork merges them into the primary's environment.)
 */
function environmentOf(slot: number, first: boolean): Record<string, string> {
  return {
    [WORKER_SLOT_VARIABLE]: String(slot),
    ...(first ? {} : { MIGRATE_ON_START: 'false', SEED_DEMO: 'false' }),
    ...(slot === 1 ? {} : { WORKER_IN_PROCESS: 'false' }),
  };
}

/** Runs the cluster's primary until SIGTERM or SIGINT; exits the process (0 when every web process stopped cleanly). */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const count = config.webConcurrency;
  const log = logger.child({ process: 'primary' });
  if (!config.redisUrl) {
    log.warn({ processes: count }, `REDIS_URL is not set: rate limits and login throttling are counted by each of the ${count} web processes on its own (up to ${count} times the limits); set REDIS_URL to share them`);
  }

  // Scrapes of any web process (METRICS_TOKEN) and of METRICS_PORT see the whole cluster.
  const metrics = metricsExposed(config.metrics) ? primaryClusterMetrics() : undefined;
  let metricsServer: Server | undefined;
  if (metrics && config.metrics.port !== undefined) {
    metricsServer = await serveMetrics(metrics, config.metrics.host, config.metrics.port, { logger: log, what: 'cluster metrics' });
  }

  /** The web process in each place (1..N). */
  const slots = new Map<number, Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let clean = true;
  let allExited: (() => void) | undefined;
  /** Until the first process listens, its death ends the cluster (a configuration or database problem). */
  let firstUp = false;

  /** `crashes`: how many times in a row this place's process died within STABLE_MS of starting. */
  const fork = (slot: number, first: boolean, crashes = 0): Worker => {
    const worker = cluster.fork(environmentOf(slot, first));
    const startedAt = Date.now();
    slots.set(slot, worker);
    // A message sent to a process that just died fails with an 'error' event: without a listener it
    // would end the primary, and with it every web process. Its exit is handled below.
    worker.on('error', (err) => log.warn({ slot, pid: worker.process.pid, err }, `web process ${slot}: ${err.message}`));
    let listened = false;
    worker.once('listening', () => (listened = true));
    worker.on('exit', (code, signal) => {
      if (slots.get(slot) === worker) slots.delete(slot);
      if (stopping) {
        // Killed by our SIGTERM before it listened (still loading, before src/main.ts handles the
        // signal): it had nothing to drain, so that is a clean stop too.
        const stoppedStarting = !listened && signal === 'SIGTERM';
        if (code !== 0 && !stoppedStarting) clean = false;
        log.info({ slot, pid: worker.process.pid, code, signal }, `web process ${slot} stopped`);
        if (slots.size === 0) allExited?.();
        return;
      }
      if (!firstUp) return;
      // Unexpected: restarted after a delay that doubles while it keeps dying young.
      const lived = Date.now() - startedAt;
      const streak = lived < STABLE_MS ? crashes + 1 : 0;
      const delay = Math.min(RESTART_DELAY_MS * 2 ** Math.max(0, streak - 1), RESTART_DELAY_MAX_MS);
      log.error({ slot, pid: worker.process.pid, code, signal, restartInMs: delay }, `web process ${slot} died (${signal ?? `exit ${code}`}): restarting it in ${delay} ms`);
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) fork(slot, false, streak);
      }, delay);
      restarts.add(timer);
    });
    return worker;
  };

  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: stopping every web process');
    for (const timer of restarts) clearTimeout(timer);
    const exited = new Promise<void>((resolve) => {
      allExited = resolve;
      if (slots.size === 0) resolve();
    });
    // Each drains as a single process does: requests up to SHUTDOWN_TIMEOUT_MS, then its running jobs as long.
    for (const worker of slots.values()) worker.process.kill('SIGTERM');
    const bound = stopDeadlineMs(config);
    const force = setTimeout(() => {
      clean = false;
      log.warn({ pids: [...slots.values()].map((w) => w.process.pid) }, `web processes still running after ${bound} ms: killing them`);
      for (const worker of slots.values()) worker.process.kill('SIGKILL');
    }, bound);
    await exited;
    clearTimeout(force);
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    log.info({ clean }, 'stopped');
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Logged once the signals are handled: a stop from here on is a graceful one (the tests rely on it).
  log.info({ processes: count }, `starting ${count} web processes (node:cluster)`);

  // The first process migrates and seeds (as configured) alone; the others start once it listens.
  const first = fork(1, true);
  const started = await new Promise<boolean>((resolve) => {
    first.once('listening', () => resolve(true));
    first.once('exit', () => resolve(false));
  });
  if (!started) {
    if (stopping) return;
    log.fatal('the first web process failed to start: stopping');
    process.exit(1);
  }
  // Stopped while the first one started: it has stopped (or is stopping); fork no others.
  if (stopping) return;
  firstUp = true;
  const rest = Array.from({ length: count - 1 }, (_, i) => fork(i + 2, false));
  await Promise.all(
    rest.map((w) => new Promise<void>((resolve) => {
      w.once('listening', () => resolve());
      w.once('exit', () => resolve());
    })),
  );
  if (!stopping) log.info({ processes: count, pids: [...slots.values()].map((w) => w.process.pid) }, `cluster up: ${count} web processes`);
}
