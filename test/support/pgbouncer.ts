import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/db/embedded';
import { serverFolder, serverUserIds } from './private-postgres';

/** Debian's package (`apt-get install pgbouncer`); PGBOUNCER_PATH for another build. */
const PGBOUNCER = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

/** Throws, naming the package, when PgBouncer is not installed: before anything is set up that would need undoing. */
export function assertPgBouncerInstalled(): void {
  try {
    accessSync(PGBOUNCER, constants.X_OK);
  } catch {
    throw new Error(`pgbouncer not found at ${PGBOUNCER}: install Debian's package (apt-get install pgbouncer) or set PGBOUNCER_PATH`);
  }
}

/**
 * The session settings the app expects behind a pooler, with the app's defaults
 * (DATABASE_LOCK_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS): PgBouncer runs this on every server
 * connection it opens, as docs/scaling.md tells operators to.
 */
export const CONNECT_QUERY = 'SET lock_timeout = 3000; SET statement_timeout = 15000';

export interface PgBouncerOptions {
  /** Server connections per (database, user) pair: `default_pool_size`. */
  poolSize?: number;
  /** Client connections it accepts in all: `max_client_conn`. */
  maxClients?: number;
  /** Run on each new server connection; '' for none. */
  connectQuery?: string;
  /** Startup parameters it accepts and drops (`ignore_startup_parameters`), as a misconfigured pooler would. */
  ignoreStartupParameters?: string[];
}

/**
 * A real PgBouncer in transaction mode in front of the server of `target` (a PostgreSQL URL): its
 * wildcard database entry (`* = host= port=`) serves every database of that server, so a test
 * database created directly is reachable through it at once. Its ini, auth file, log and pid live
 * in a temporary folder. PgBouncer refuses to run as root: when the tests do, it runs as the
 * `postgres` OS user, which owns the folder.
 */
export interface PgBouncer {
  port: number;
  /** `url` (a direct URL to the same server) with PgBouncer's host and port instead. */
  through(url: string): string;
  /** A query on PgBouncer's admin console (`SHOW POOLS`, `SHOW CLIENTS`...): its rows. */
  admin<T = Record<string, unknown>>(command: string): Promise<T[]>;
  /** What it logged (its log file). */
  log(): string;
  /** Stops it (SIGTERM, SIGKILL if it is still there after 5 s) and deletes its folder. */
  close(): Promise<void>;
}

/** The ini PgBouncer runs with; docs/scaling.md shows the same settings. */
export function pgbouncerIni(settings: { host: string; port: number; listenPort: number; dir: string; user: string; poolSize: number; maxClients: number; connectQuery: string; ignoreStartupParameters?: string[] }): string {
  const connectQuery = settings.connectQuery ? ` connect_query='${settings.connectQuery}'` : '';
  return [
    '[databases]',
    `* = host=${settings.host} port=${settings.port}${connectQuery}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${settings.listenPort}`,
    // No Unix socket: the folder it would go to may not be the postgres user's to write.
    'unix_socket_dir =',
    'pool_mode = transaction',
    `default_pool_size = ${settings.poolSize}`,
    `max_client_conn = ${settings.maxClients}`,
    // Clients wait for a server connection up to this long, then get an error (not a hang).
    'query_wait_timeout = 60',
    // A local test pooler: no client passwords; the auth file gives the server's password.
    'auth_type = trust',
    `auth_file = ${join(settings.dir, 'userlist.txt')}`,
    `admin_users = ${settings.user}`,
    `logfile = ${join(settings.dir, 'pgbouncer.log')}`,
    `pidfile = ${join(settings.dir, 'pgbouncer.pid')}`,
    ...(settings.ignoreStartupParameters?.length ? [`ignore_startup_parameters = ${settings.ignoreStartupParameters.join(',')}`] : []),
    '',
  ].join('\n');
}

/**
 * PgBouncer's command line: through `setpriv` (util-linux), which makes the kernel kill it when
 * this process dies however it dies (jest interrupted, a crash: no `exit` handler would run), and
 * as root switches to the postgres user first.
 */
function commandLine(ini: string, owner?: { uid: number; gid: number }): string[] {
  const user = owner ? [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups'] : [];
  // -q: no log lines on stderr (it would be kept in memory for the whole run); the log file has them.
  return [...user, '--pdeathsig', 'KILL', PGBOUNCER, '-q', ini];
}

export async function startPgBouncer(target: string, { poolSize = 20, maxClients = 800, connectQuery = CONNECT_QUERY, ignoreStartupParameters }: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(target);
  const user = decodeURIComponent(server.username) || 'postgres';
  const password = decodeURIComponent(server.password);
  assertPgBouncerInstalled();
  const dir = serverFolder('ecom-pgbouncer-');
  const listenPort = await freePort();
  writeFileSync(join(dir, 'pgbouncer.ini'), pgbouncerIni({ host: server.hostname, port: Number(server.port || 5432), listenPort, dir, user, poolSize, maxClients, connectQuery, ignoreStartupParameters }));
  writeFileSync(join(dir, 'userlist.txt'), `"${user.replace(/"/g, '""')}" "${password.replace(/"/g, '""')}"\n`, { mode: 0o600 });
  const owner = serverUserIds();
  if (owner) for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), owner.uid, owner.gid);

  // In the foreground (no -d), as a child of this process: stopped by its pid, never by name.
  const child: ChildProcess = spawn('setpriv', commandLine(join(dir, 'pgbouncer.ini'), owner), { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // A spawn failure (no setpriv) is an 'error' with no 'exit': unhandled, it would crash jest.
  let spawnError: Error | undefined;
  const failed = new Promise<void>((resolve) =>
    child.on('error', (err) => {
      spawnError = err;
      resolve();
    }),
  );
  const gone = Promise.race([exited, failed]);

  const through = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(listenPort);
    return u.toString();
  };
  const admin = <T>(command: string) => consoleQuery<T>(through(target), command);
  const close = async () => {
    try {
      // SIGTERM: an immediate shutdown up to 1.22 (SIGINT, PAUSE + SHUTDOWN, would wait for an open
      // transaction, possibly forever); 1.23+ waits for the clients instead, hence SIGKILL after 5 s.
      if (!spawnError && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5000)));
        if (await Promise.race([gone.then(() => false), late])) {
          child.kill('SIGKILL');
          await gone;
        }
        clearTimeout(timer);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  // Ready once its admin console answers.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (err) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null || attempt > 100) {
        const log = (() => {
          try {
            return readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
          } catch {
            return '';
          }
        })();
        await close();
        throw new Error(`pgbouncer did not start (${String(spawnError ?? err)}):\n${stderr.join('')}${log}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port: listenPort, through, admin, log: () => readFileSync(join(dir, 'pgbouncer.log'), 'utf8'), close };
}

/** A command on the admin console of the PgBouncer `url` goes through (its `pgbouncer` database): its rows. */
export async function consoleQuery<T = Record<string, unknown>>(url: string, command: string): Promise<T[]> {
  const u = new URL(url);
  u.pathname = '/pgbouncer';
  const client = new Client({ connectionString: u.toString() });
  await client.connect();
  try {
    // The admin console speaks the simple query protocol only: no parameters.
    return (await client.query(command)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The run's PgBouncer (`npm run test:pgbouncer`: TEST_PGBOUNCER=1 makes the global setup start one,
 * test/support/global-setup.ts): the URL an app under test connects with, through it when `url` is
 * on the server it fronts, else `url` itself (a test's private server stays direct). Test databases
 * are created, and direct assertions run, on the direct URL.
 */
export function pooledUrl(url: string): string {
  const port = process.env.TEST_PGBOUNCER_PORT;
  const admin = process.env.TEST_DATABASE_ADMIN_URL;
  if (!port || !admin) return url;
  const u = new URL(url);
  const server = new URL(admin);
  if (u.hostname !== server.hostname || (u.port || '5432') !== (server.port || '5432')) return url;
  u.hostname = '127.0.0.1';
  u.port = port;
  return u.toString();
}

/** The settings an app connecting with `url` needs when that goes through the run's PgBouncer (docs/scaling.md). */
export function pooledEnv(url: string): Record<string, string> {
  const port = process.env.TEST_PGBOUNCER_PORT;
  // DATABASE_PREPARED_STATEMENTS follows DATABASE_POOLER (off behind PgBouncer): left to that default.
  return port && new URL(url).port === port ? { DATABASE_POOLER: 'pgbouncer' } : {};
}
