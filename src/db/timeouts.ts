import type { EntityManager } from '@mikro-orm/postgresql';

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
   * `pgbouncer`: a pooler in transaction mode sits in front of the server (DATABASE_POOLER). It
   * refuses the timeouts as startup parameters (PgBouncer 1.18: "unsupported startup parameter"),
   * and a server session is shared by every client anyway, so the server sets them (PgBouncer's
   * `connect_query`, or the role's defaults) and `pooledLimitsGaps` checks it did.
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
 * Behind a transaction pooler, where the sessions' timeouts differ from the configured ones: one
 * line per difference, empty when they match. Server sessions are shared by both pools there, so
 * the writers' statement timeout is the one expected (DATABASE_READ_STATEMENT_TIMEOUT_MS cannot
 * apply); 0 in the configuration leaves the database's own setting, so it is not checked.
 */
export async function pooledLimitsGaps(em: EntityManager, limits: DatabaseLimits): Promise<string[]> {
  // pg_settings gives both in milliseconds, whatever unit they were set in. On the write pool: the
  // primary's pooler (a plain read would go to a replica when there are some).
  const rows = await em.getConnection('write').execute<{ name: string; ms: string }[]>(`select name, setting as ms from pg_settings where name in ('lock_timeout', 'statement_timeout')`);
  const actual = new Map(rows.map((r) => [r.name, Number(r.ms)]));
  const gaps: string[] = [];
  for (const [name, setting, expected] of [
    ['lock_timeout', 'DATABASE_LOCK_TIMEOUT_MS', limits.lockTimeoutMs],
    ['statement_timeout', 'DATABASE_STATEMENT_TIMEOUT_MS', limits.statementTimeoutMs],
  ] as const) {
    if (expected && actual.get(name) !== expected) gaps.push(`${name} is ${actual.get(name)} ms, ${setting} is ${expected}`);
  }
  return gaps;
}
