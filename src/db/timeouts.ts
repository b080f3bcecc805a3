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
}

/** pg's connection options for a pool's sessions: startup parameters, the connect timeout, a name in pg_stat_activity. */
export function sessionSettings(limits: DatabaseLimits, pool: 'read' | 'write'): Record<string, number | string> {
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
