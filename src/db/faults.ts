/**
 * Database faults: the one place that recognises "the database is gone, or will not take us in
 * time" in whatever shape the layers below report it (pg's errors with their SQLSTATE, Node's
 * socket errors, knex's and tarn's pool timeouts, MikroORM's wrappers around all of them). The
 * problem mapper (src/http/problem.ts) answers them with 503 and Retry-After instead of a 500;
 * the pools (src/db/pools.ts) use `isDeadConnection` to drop a connection and retry a read.
 */

export type DatabaseFaultCode = 'SERVICE_UNAVAILABLE' | 'DATABASE_BUSY';

export interface DatabaseFault {
  /** The problem code, documented in openapi/components/responses/ServiceUnavailable.yaml. */
  code: DatabaseFaultCode;
  detail: string;
  retryAfterSeconds: number;
}

/** The database cannot be reached: down, restarting, refusing connections, or the connection was lost. */
export const DATABASE_UNREACHABLE: DatabaseFault = {
  code: 'SERVICE_UNAVAILABLE',
  detail: 'The database is not reachable.',
  retryAfterSeconds: 5,
};

/** The database is there but could not take the request in time: a pool, lock or statement wait ran out. */
export const DATABASE_BUSY: DatabaseFault = {
  code: 'DATABASE_BUSY',
  detail: 'The database could not take the request in time (a connection, lock or statement wait ran out).',
  retryAfterSeconds: 2,
};

/** Socket errors of a connection that cannot be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server that is going away or does not take us: 57P01 admin_shutdown (a fast or
 * immediate shutdown, pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now
 * (starting up, recovering), 53300 too_many_connections; and class 08, connection exceptions.
 */
const UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** 55P03 lock_not_available (lock_timeout); 57014 query_canceled (statement_timeout). */
const BUSY_STATES = new Set(['55P03', '57014']);
/** pg's own words for a connection that ended under it, or that it gave up connecting (connectionTimeoutMillis). */
const LOST = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|^timeout expired$/;
/** knex, when tarn's acquire wait ran out (knex replaces the cause with this message). */
const ACQUIRE_TIMEOUT = /Timeout acquiring a connection/;

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  severity?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and what it wraps (`cause`, an AggregateError's `errors`), a few levels deep. */
function* chain(err: unknown, depth = 0): Generator<ErrorShape> {
  if (typeof err !== 'object' || err === null || depth > 4) return;
  const e = err as ErrorShape;
  yield e;
  if (e.cause !== undefined && e.cause !== err) yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors.slice(0, 4)) yield* chain(inner, depth + 1);
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * What a failure means for availability: unreachable, busy, or nothing of the kind (undefined). An
 * HTTP error (with a `status`: body-parser's, the validator's) is never one, whatever its code says
 * (a client that hung up mid-body is ECONNABORTED or ECONNRESET, and none of the database's business).
 */
export function databaseFault(err: unknown): DatabaseFault | undefined {
  const http = err as { status?: unknown; statusCode?: unknown } | null;
  if (typeof http?.status === 'number' || typeof http?.statusCode === 'number') return undefined;
  for (const e of chain(err)) {
    const code = text(e.code);
    if (BUSY_STATES.has(code) || text(e.name) === 'KnexTimeoutError' || ACQUIRE_TIMEOUT.test(text(e.message))) return DATABASE_BUSY;
    if (UNREACHABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || SOCKET_CODES.has(code) || LOST.test(text(e.message))) return DATABASE_UNREACHABLE;
  }
  return undefined;
}

/**
 * The failure says the connection it ran on is dead (the server ended the session, the socket
 * broke): nothing more can run on it, and a read may be retried on another. A connection that could
 * not be made (ECONNREFUSED) or a timeout is not one: the next attempt would meet the same.
 */
export function isDeadConnection(err: unknown): boolean {
  for (const e of chain(err)) {
    const code = text(e.code);
    if (code === '57P01' || code === '57P02' || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code === 'ECONNRESET' || code === 'EPIPE') return true;
    if (e.severity === 'FATAL' || e.severity === 'PANIC') return true;
    // pg's own client-side wait (`query_timeout`, set for replicas) ran out: the statement may still
    // be running there, so the connection cannot take another.
    if (/Connection terminated unexpectedly|connection error and is not queryable|Query read timeout$/.test(text(e.message))) return true;
  }
  return false;
}

/** A statement that starts as a query (`select`, `with`), after comments and parentheses. */
const QUERY_START = /^(?:\s+|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*(?:select|with)\b/i;
/**
 * Words of a statement that changes something or takes a lock: data-modifying CTEs, `select into`,
 * locking clauses, and the functions with effects this code base (or a careless query) could call.
 */
const EFFECTS = /\b(?:insert|update|delete|merge|truncate|into|share|nowait|nextval|setval|set_config|lo_\w+|pg_(?:try_)?advisory\w*|pg_notify|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_switch_wal)\b/i;

/**
 * The statement only reads and has no effect, so running it again is harmless: a query that names
 * none of the words above. Conservative on purpose: a read it misjudges (a column called `share`)
 * only loses the read pool and the retry; a write must never pass.
 */
export function isPlainRead(sql: string): boolean {
  return QUERY_START.test(sql) && !EFFECTS.test(sql);
}

/**
 * What a failed read says about the replica it ran on (src/db/replicas.ts): `down` when the replica
 * is gone or will not take us (unreachable, a dead connection), `refused` when it turned this one
 * statement down for being a replica (25006 read_only_sql_transaction: a write that reached it;
 * 40001 with a standby is a recovery conflict), `busy` when the replica's pool lent no connection
 * in time (load on this process, not a fault of the replica: it stays in use), else undefined (the
 * statement's own failure, which the primary would meet too). Either way nothing was done on the
 * replica, so the read may run on the primary.
 */
export function replicaFailure(err: unknown): 'down' | 'refused' | 'busy' | undefined {
  if (isDeadConnection(err)) return 'down';
  for (const e of chain(err)) {
    const code = text(e.code);
    if (code === '25006' || code === '40001') return 'refused';
    if (text(e.name) === 'KnexTimeoutError' || ACQUIRE_TIMEOUT.test(text(e.message))) return 'busy';
  }
  return databaseFault(err) === DATABASE_UNREACHABLE ? 'down' : undefined;
}
