import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/db/embedded';

/** Debian's package (`apt-get install pgbouncer`); PGBOUNCER_PATH for another build. */
const PGBOUNCER = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

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
  /** Stops it (SIGINT: a safe shutdown) and deletes its folder. */
  close(): Promise<void>;
}

/** The ini PgBouncer runs with; docs/scaling.md shows the same settings. */
export function pgbouncerIni(settings: { host: string; port: number; listenPort: number; dir: string; user: string; poolSize: number; maxClients: number; connectQuery: string }): string {
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
    '',
  ].join('\n');
}

function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
}

/**
 * PgBouncer's command line: through `setpriv` (util-linux), which makes the kernel kill it when
 * this process dies however it dies (jest interrupted, a crash: no `exit` handler would run), and
 * as root switches to the postgres user first.
 */
function commandLine(ini: string, owner?: { uid: number; gid: number }): string[] {
  const user = owner ? [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups'] : [];
  return [...user, '--pdeathsig', 'KILL', PGBOUNCER, ini];
}

export async function startPgBouncer(target: string, { poolSize = 20, maxClients = 800, connectQuery = CONNECT_QUERY }: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(target);
  const user = decodeURIComponent(server.username) || 'postgres';
  const password = decodeURIComponent(server.password);
  const dir = mkdtempSync(join(tmpdir(), 'ecom-pgbouncer-'));
  const listenPort = await freePort();
  writeFileSync(join(dir, 'pgbouncer.ini'), pgbouncerIni({ host: server.hostname, port: Number(server.port || 5432), listenPort, dir, user, poolSize, maxClients, connectQuery }));
  writeFileSync(join(dir, 'userlist.txt'), `"${user.replace(/"/g, '""')}" "${password.replace(/"/g, '""')}"\n`, { mode: 0o600 });
  const owner = serverUser();
  if (owner) for (const f of ['', 'pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), owner.uid, owner.gid);

  // In the foreground (no -d), as a child of this process: stopped by its pid, never by name.
  const child: ChildProcess = spawn('setpriv', commandLine(join(dir, 'pgbouncer.ini'), owner), { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  const through = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(listenPort);
    return u.toString();
  };
  const admin = <T>(command: string) => consoleQuery<T>(through(target), command);
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready once its admin console answers.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (err) {
      if (child.exitCode !== null || attempt > 100) {
        const log = (() => {
          try {
            return readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
          } catch {
            return '';
          }
        })();
        await close();
        throw new Error(`pgbouncer did not start (${String(err)}):\n${stderr.join('')}${log}`, { cause: err });
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
  return port && new URL(url).port === port ? { DATABASE_PREPARED_STATEMENTS: 'false', DATABASE_POOLER: 'pgbouncer' } : {};
}
