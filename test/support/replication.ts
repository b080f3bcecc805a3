import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../src/db/embedded';
import { asServerUser, type PrivatePostgres, runServer, serverBinary, serverFolder } from './private-postgres';

const run = promisify(execFile);

/**
 * A streaming replica of a private primary (test/support/private-postgres.ts), made the way an
 * operator makes one: `pg_basebackup -R` from the running primary (initdb's pg_hba.conf lets
 * 127.0.0.1 replicate with trust) into a folder of its own, then a second postmaster on a free port
 * (as `postgres` when root). It follows the primary at once and has its settings (log_statement...).
 * The app knows nothing of how it was made: it only gets its URL.
 */
export interface PrivateReplica extends Omit<PrivatePostgres, 'createDatabase'> {
  /** Runs one statement on it (a new connection each time: it may have been stopped since). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** `pg_wal_replay_pause()`: it keeps receiving the primary's WAL but applies none, so its lag grows with each write. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** SIGSTOP to its postmaster and every process of it: its connections stay open and nothing answers (a frozen host). */
  freeze(): void;
  /** SIGCONT to the same processes: it answers again. */
  thaw(): void;
}

export async function startStreamingReplica(primary: PrivatePostgres): Promise<PrivateReplica> {
  const dir = serverFolder('ecom-private-replica-');
  const data = join(dir, 'data');
  const [command, args] = asServerUser(serverBinary('pg_basebackup'), ['-R', '-D', data, '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-X', 'stream', '--no-sync']);
  await run(command, args, { encoding: 'utf8' });
  const server = await runServer(dir, data, await freePort());
  const query = async <T>(sql: string): Promise<T[]> => {
    const client = new Client({ connectionString: server.url() });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const { createDatabase: _unused, ...controls } = server;
  // The postmaster (first line of postmaster.pid) and its children, by id.
  let frozen: number[] = [];
  const processes = () => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((pid) => pid > 0);
    return [postmaster, ...children];
  };
  return {
    ...controls,
    freeze() {
      frozen = processes();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    },
    query,
    pauseReplay: async () => void (await query('select pg_wal_replay_pause()')),
    resumeReplay: async () => void (await query('select pg_wal_replay_resume()')),
  };
}
