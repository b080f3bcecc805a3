import { Client } from 'pg';
import type { TestApp } from './app';

/**
 * What the database faults tests look at from outside the app: a session of their own that holds
 * locks as another client would, the app's sessions as PostgreSQL lists them (the serving pools
 * name themselves `ecommerce-backend:write` and `ecommerce-backend:read`), and its pools' queues.
 */

/** A session of the test's own on `url` (to hold locks, end the app's sessions, look at pg_stat_activity). */
export async function session(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/** The app's sessions of one pool that are waiting for a lock right now, with how long their statement has run. */
export async function lockWaiters(admin: Client, pool: 'read' | 'write'): Promise<{ pid: number; waitedMs: number }[]> {
  const { rows } = await admin.query<{ pid: number; waited_ms: number }>(
    `select pid, (extract(epoch from clock_timestamp() - query_start) * 1000)::int as waited_ms
       from pg_stat_activity
      where datname = current_database() and application_name = $1 and wait_event_type = 'Lock'`,
    [`ecommerce-backend:${pool}`],
  );
  return rows.map((r) => ({ pid: r.pid, waitedMs: r.waited_ms }));
}

/** Requests queued in the app's pool for a connection. */
export function queuedFor(app: TestApp, pool: 'read' | 'write'): number {
  const client = app.orm.em.getKnex(pool).client as { pool?: { numPendingAcquires(): number } };
  return client.pool?.numPendingAcquires() ?? 0;
}

/** Polls `check` until `ok` holds; fails with `what` if it never does within `timeoutMs` (a bound, not an assertion on speed). */
export async function until<T>(what: string, check: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A promise and whether it has settled yet. */
export interface Tracked<T> {
  promise: Promise<T>;
  settled(): boolean;
}

export function tracked<T>(promise: Promise<T>): Tracked<T> {
  let done = false;
  const settledPromise = promise.finally(() => {
    done = true;
  });
  return { promise: settledPromise, settled: () => done };
}
