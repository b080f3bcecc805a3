import type { EntityManager } from '@mikro-orm/postgresql';
import { ResilientPostgreSqlDriver } from './pools';

/**
 * The bounded waits of a serving process's pools (see docs/operations.md, "Database faults").
 * Timeouts are the sessions' own settings, sent in each new connection's startup message: no
 * statement per query or per request. 0 leaves the database's setting.
 */
export interface DatabaseLimits {
  /** Connections for reads outside a transaction, a pool apart from the writers' (0: none, reads share the write pool). */
  readPoolMax: number;
  /** Longest wait for a connection from a pool, or for a new one to connect. */
  acquireTimeoutMs: number;
  /** lock_timeout of every session. */
  lockTimeoutMs: number;
  /** statement_timeout of the write pool's sessions (writes and transactions). */
  statementTimeoutMs: number;
  /** statement_timeout of the read pool's sessions. */
  readStatementTimeoutMs: number;
  /**
   * `pgbouncer`: a pooler in transaction mode sits in front of the servers, the primary and the
   * replicas alike (DATABASE_POOLER). It refuses the timeouts as startup parameters (PgBouncer
   * 1.18: "unsupported startup parameter"), and a server session is shared by every client anyway,
   * so the server sets them (PgBouncer's `connect_query`, or the role's defaults) and `limitsGaps`
   * checks it did.
   */
  pooler?: 'none' | 'pgbouncer';
}

/** pg's connection options for a pool's sessions: startup parameters, the connect timeout, a name in pg_stat_activity. */
export function sessionSettings(limits: DatabaseLimits, pool: 'read' | 'write'): Record<string, number | string> {
  // One name for both pools: PgBouncer tracks application_name per client and would send a SET
  // each time a server connection passes from a read client to a write client.
  if (limits.pooler === 'pgbouncer') return { application_name: 'ecommerce-backend:pooled', connectionTimeoutMillis: limits.acquireTimeoutMs };
  const statementTimeout = pool === 'read' ? limits.readStatementTimeoutMs : limits.statementTimeoutMs;
  return {
    application_name: `ecommerce-backend:${pool}`,
    connectionTimeoutMillis: limits.acquireTimeoutMs,
    // pg sends these in the startup message only when they are not 0.
    lock_timeout: limits.lockTimeoutMs,
    statement_timeout: statementTimeout,
  };
}

/**
 * Lets the current transaction wait up to `ms` for locks (`SET LOCAL lock_timeout`), for the
 * transactions whose waits are expected and worth it (checkout queues behind other checkouts of the
 * same stock). Ends with the transaction; 0 keeps the session's limit.
 */
export async function allowLockWait(tx: EntityManager, ms: number): Promise<void> {
  if (!ms) return;
  if (!tx.getTransactionContext()) throw new Error('allowLockWait: only inside a transaction (SET LOCAL ends with it)');
  await tx.execute(`select set_config('lock_timeout', ?, true)`, [`${ms}ms`]);
}

/**
 * Where the sessions' timeouts differ from what the app expects of them: one line per difference,
 * empty when they match. Run once at the start of every serving process, whatever DATABASE_POOLER
 * says, on one session of the primary's writers and one of each replica (DATABASE_POOLER describes
 * every connection the app opens, the replicas' too). With `none` the app sent the timeouts when it
 * connected, so a difference means something in between dropped them (a pooler the setting does not
 * name); with `pgbouncer` the server's side sets them (connect_query, the role). The primary's
 * sessions are shared by both pools behind a pooler, so the writers' statement timeout is expected
 * there; a replica only reads, so the readers' (DATABASE_READ_STATEMENT_TIMEOUT_MS). 0 in the
 * configuration leaves the database's own setting, so it is not checked. A replica that does not
 * answer is left to the replica monitor.
 */
export async function limitsGaps(em: EntityManager, limits: DatabaseLimits): Promise<string[]> {
  // pg_settings gives both in milliseconds, whatever unit they were set in.
  const SQL = `select name, setting as ms from pg_settings where name in ('lock_timeout', 'statement_timeout')`;
  const driver = em.getDriver();
  const replicas = driver instanceof ResilientPostgreSqlDriver ? driver.servers : [];
  const gaps: string[] = [];
  const check = (where: string, rows: Record<string, unknown>[], statementSetting: string, statementMs: number) => {
    const actual = new Map(rows.map((r) => [String(r.name), Number(r.ms)]));
    for (const [name, setting, expected] of [
      ['lock_timeout', 'DATABASE_LOCK_TIMEOUT_MS', limits.lockTimeoutMs],
      ['statement_timeout', statementSetting, statementMs],
    ] as const) {
      if (expected && actual.get(name) !== expected) gaps.push(`${where}: ${name} is ${actual.get(name)} ms, ${setting} is ${expected}`);
    }
  };
  // On the write pool: the primary (a plain read would go to a replica when there are some).
  check('primary', await em.getConnection('write').execute<Record<string, unknown>[]>(SQL), 'DATABASE_STATEMENT_TIMEOUT_MS', limits.statementTimeoutMs);
  for (const replica of replicas) {
    // Bounded: a replica frozen at start must not hold the process's start (its pool's own bound is
    // the statement timeout, which may be 0).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), limits.acquireTimeoutMs)));
    const rows = await Promise.race([replica.probe(SQL).catch(() => undefined), late]);
    clearTimeout(timer);
    if (rows) check(replica.name, rows, 'DATABASE_READ_STATEMENT_TIMEOUT_MS', limits.readStatementTimeoutMs);
  }
  return gaps;
}
