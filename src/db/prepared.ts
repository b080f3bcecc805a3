import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Connection } from '@mikro-orm/core';
import { onPooledConnection, type PoolClient, ReplicaConnection } from './pools';

/** The most distinct statements kept by name; beyond it, statements run unnamed (planned each time). */
const MAX_NAMED = 256;
const named = new Map<string, { name: string; text: string }>();

/** `?` placeholders (knex style, as MikroORM's `em.execute` takes them) to PostgreSQL's `$n`. */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The statement to send for `sql`: `$n` placeholders and a stable name (none past MAX_NAMED distinct texts). */
export function namedStatement(sql: string): { name?: string; text: string } {
  const known = named.get(sql);
  if (known) return known;
  const text = toPgPlaceholders(sql);
  if (named.size >= MAX_NAMED) return { text };
  const statement = { name: `q_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text };
  named.set(sql, statement);
  return statement;
}

/**
 * Runs a read-only query as a named prepared statement on a pooled connection: PostgreSQL parses
 * it once per connection and, after five executions, may reuse a generic plan, which halves the
 * cost of the catalog's list queries (planning was half of each; see docs/scaling.md). For SQL
 * whose plan does not depend much on its values: the per-category `LATERAL` probes of the
 * discovery queries are fixed by the text. Inside a transaction it runs through `em.execute`, so it
 * sees that transaction's writes. The SQL uses `?` placeholders, like `em.execute`; every value is
 * a bound parameter.
 *
 * Outside a transaction it runs on the read pool when there is one (src/db/pools.ts: reads never
 * queue behind writers), or on a replica when the request may read from one (src/db/replicas.ts),
 * and a connection that turns out dead is dropped and the read retried once on another (each
 * connection prepares its statements itself, so a fresh one just prepares again); one that failed
 * on a replica runs again on the primary.
 *
 * Behind PgBouncer in transaction mode, prepared statements need PgBouncer 1.21+ with
 * `max_prepared_statements`; `DATABASE_PREPARED_STATEMENTS=false` turns them off.
 */
export async function executePrepared<T>(em: EntityManager, sql: string, params: unknown[], enabled = true): Promise<T[]> {
  if (!enabled || em.getTransactionContext()) return em.execute<T[]>(sql, params);
  const statement = namedStatement(sql);
  // One pick of the connection (a replica when the request allows it: src/db/replicas.ts).
  const chosen = em.getConnection('read');
  if (!(chosen instanceof ReplicaConnection)) return runPrepared<T>(em, chosen, statement, params, true);
  try {
    return await runPrepared<T>(em, chosen, statement, params, false);
  } catch (err) {
    // The replica failed (it is skipped from now on): the read runs on the primary instead.
    const primary = chosen.fallbackFor(err);
    if (!primary) throw err;
    return runPrepared<T>(em, primary, statement, params, true);
  }
}

/** Runs the named statement on a connection of `connection`'s pool; with `retry`, once more on another if that one was dead. */
async function runPrepared<T>(em: EntityManager, connection: Connection, statement: { name?: string; text: string }, params: unknown[], retry: boolean): Promise<T[]> {
  // Named like MikroORM names its connections in the query log: `write`, `read`, `replica-0`...
  const pool = connection instanceof ReplicaConnection ? connection.name : connection === em.getConnection('write') ? 'write' : 'read';
  const client = (connection as unknown as { getKnex(): { client: PoolClient } }).getKnex().client;
  return onPooledConnection(
    client,
    async (connection) => {
      const started = Date.now();
      // Logged like every statement MikroORM runs (DATABASE_DEBUG, tests that count statements).
      const log = (level: 'info' | 'error', results?: number) =>
        em.config.getLogger().logQuery({ level, query: statement.text, params, took: Date.now() - started, results, connection: { type: pool, name: statement.name } });
      try {
        const { rows } = await connection.query({ ...statement, values: params });
        log('info', rows.length);
        return rows as T[];
      } catch (err) {
        log('error');
        throw err;
      }
    },
    retry,
  );
}
