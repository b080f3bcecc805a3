import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../src/db/embedded';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * A PostgreSQL server of one test's own, started from the machine's binaries (`pg_config
 * --bindir`: initdb, pg_ctl) in a temporary folder, on a free port of 127.0.0.1: a test may stop,
 * restart or crash it without touching the server the other test files share. Run as root, the
 * server runs as the `postgres` OS user (PostgreSQL refuses root), which owns the folder.
 */
export interface PrivatePostgres {
  port: number;
  /** The URL of a database on this server (user postgres, trust authentication). */
  url(database?: string): string;
  /** Creates a database and applies the migrations to it (`npm run db:migrate`, like the global setup); its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop`: fast (sessions are told: 57P01) or immediate (no shutdown checkpoint, crash recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and folder; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl restart`: stop then start, resolving once it accepts connections again. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it (immediate) and deletes its folder. */
  close(): Promise<void>;
  /** Its data folder (a streaming replica's base backup is taken from the server, not from here). */
  dataDir: string;
  /** What it wrote to its log so far (with `log_statement: 'all'`, every statement it ran). */
  log(): string;
}

export interface PrivatePostgresOptions {
  /** Server settings written to its postgresql.conf (`{ log_statement: 'all' }`); a replica copies them. */
  settings?: Record<string, string | number>;
}

/** A command line that runs as `postgres` when this process is root. */
export function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** The machine's PostgreSQL binaries (initdb, pg_ctl, pg_basebackup). */
export const serverBinary = (name: string) => join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), name);

/** The `postgres` OS user's ids when this process is root (servers run as it then), else undefined. */
export function serverUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
}

/** A temporary folder for a server, owned by the user the server runs as. */
export function serverFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const owner = serverUserIds();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

export async function startPrivatePostgres({ settings = {} }: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const dir = serverFolder('ecom-private-pg-');
  const data = join(dir, 'data');
  const [initdb, initArgs] = asServerUser(serverBinary('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  await run(initdb, initArgs, { encoding: 'utf8' });
  // In the configuration file rather than on the command line, which pg_ctl hands to a shell.
  const lines = Object.entries(settings).map(([name, value]) => `${name} = '${String(value).replace(/'/g, "''")}'`);
  if (lines.length) appendFileSync(join(data, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
  return runServer(dir, data, await freePort());
}

/**
 * Starts the server of `data` on `port` (as `postgres` when root) and answers its controls; it is
 * stopped if this process exits without closing it.
 */
export async function runServer(dir: string, data: string, port: number): Promise<PrivatePostgres> {
  // Durability is not what these tests are about: no fsync makes starts and checkpoints quick.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
  const logFile = join(dir, 'server.log');
  const pgCtl = async (...args: string[]) => {
    const [command, argv] = asServerUser(serverBinary('pg_ctl'), ['-D', data, '-w', '-t', '60', ...args]);
    await run(command, argv, { encoding: 'utf8' });
  };
  const start = () => pgCtl('-l', logFile, '-o', options, 'start');
  await start();
  let stopped = false;
  // If the test process dies without closing it, the server must not outlive it.
  const orphanGuard = () => {
    if (stopped) return;
    try {
      const [command, argv] = asServerUser(serverBinary('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      execFileSync(command, argv, { stdio: 'ignore' });
    } catch {
      // already down
    }
  };
  process.once('exit', orphanGuard);

  const url = (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(name) {
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      await run('npm', ['run', '-s', 'db:migrate'], { cwd: root, env: { ...process.env, DATABASE_URL: url(name), LOG_LEVEL: 'silent' } });
      return url(name);
    },
    stop: (mode = 'fast') => pgCtl('-m', mode, 'stop'),
    start,
    restart: (mode = 'fast') => pgCtl('-l', logFile, '-m', mode, 'restart'),
    dataDir: data,
    log: () => readFileSync(logFile, 'utf8'),
    async close() {
      await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      stopped = true;
      process.removeListener('exit', orphanGuard);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
