import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type Redis from 'ioredis';
import { decode } from 'jsonwebtoken';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { OperationId } from '../../generated/operations';
import { replicaSetOf } from '../db/pools';
import { type PrimaryReadReason, withReplicaReads } from '../db/replicas';

/**
 * Which requests read from a replica (DATABASE_REPLICA_URLS; docs/scaling.md, "Read replicas").
 *
 * Only the catalog's reads may: the REST operations below and the GraphQL queries whose every root
 * field is a catalog one (src/graphql/replica-reads.ts). Everything else (carts, checkout, orders,
 * accounts, administration, every write, jobs) reads from the primary.
 *
 * Read-your-writes: a caller who sent a write of what the catalog shows (CATALOG_WRITE_OPERATIONS:
 * products, variants, categories, media, reviews, imports; the GraphQL mutations of
 * CATALOG_WRITE_FIELDS) reads the catalog from the primary for DATABASE_READ_YOUR_WRITES_MS after
 * it, so a vendor who saves a product sees it at once. Other writes (carts, orders, logins,
 * accounts) change nothing a replica serves, so they record nothing. The caller is the signed-in
 * user (the access token's subject), else the guest cart token (hashed), else the client's address.
 * The write is recorded once, before it runs (so the record is there before its answer leaves): the
 * window counts from the write's arrival. Recorded in Redis when REDIS_URL is set (one SET; shared
 * by every process; while Redis does not answer, in this process's memory), else in memory.
 *
 * Only the requests that may read from a replica run inside `withReplicaReads` (an
 * AsyncLocalStorage scope); every other request passes through untouched.
 */

/** The REST operations that only read the public catalog (products, categories, reviews). */
export const REPLICA_OPERATIONS: ReadonlySet<OperationId> = new Set<OperationId>([
  'listProducts',
  'getProductFacets',
  'getProduct',
  'listProductMedia',
  'listVariants',
  'getVariant',
  'listCategories',
  'getCategoryTree',
  'getCategory',
  'listReviews',
  'getReview',
]);

/**
 * The REST operations that change what the catalog's reads show: after one, its caller reads from
 * the primary for the read-your-writes window.
 */
export const CATALOG_WRITE_OPERATIONS: ReadonlySet<OperationId> = new Set<OperationId>([
  'createProduct',
  'updateProduct',
  'deleteProduct',
  'createVariant',
  'updateVariant',
  'deleteVariant',
  'createCategory',
  'updateCategory',
  'deleteCategory',
  'uploadProductMedia',
  'updateProductMedia',
  'deleteProductMedia',
  'createReview',
  'updateReview',
  'deleteReview',
  'importProducts',
]);

/** Who wrote lately (read-your-writes). Never throws: a store that fails answers from memory. */
export interface RecentWriters {
  /** `key` wrote now: its reads go to the primary for the window. */
  mark(key: string): Promise<void>;
  wroteRecently(key: string): Promise<boolean>;
}

/**
 * At most this many callers are remembered in memory. Past it, the expired records go first; only
 * if that is not enough (more distinct writers of the catalog in one window than this) are live ones
 * forgotten, the oldest first, and counted (`evicted`): such a caller may then read a replica
 * within its window.
 */
export const MEMORY_MAX = 100_000;

export class MemoryWriters implements RecentWriters {
  private readonly until = new Map<string, number>();
  /** Live records forgotten because the memory was full. */
  evicted = 0;

  constructor(private readonly windowMs: number) {}

  async mark(key: string): Promise<void> {
    const now = Date.now();
    // Re-inserted, so the Map's order stays the order of the last writes: with one window for all,
    // the expired records are the oldest, at its start.
    this.until.delete(key);
    this.until.set(key, now + this.windowMs);
    if (this.until.size <= MEMORY_MAX) return;
    for (const [k, until] of this.until) {
      if (until > now && this.until.size <= MEMORY_MAX) break;
      if (until > now) this.evicted++;
      this.until.delete(k);
    }
  }

  async wroteRecently(key: string): Promise<boolean> {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.until.delete(key);
    return false;
  }
}

/**
 * In Redis (`SET ryw:<key> PX <window>`), and in memory as well: a Redis that does not answer (the
 * client bounds every command, src/redis.ts) leaves this process's own record, so a caller who
 * comes back to the same process still reads their write.
 */
class RedisWriters implements RecentWriters {
  private readonly memory: MemoryWriters;

  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
  ) {
    this.memory = new MemoryWriters(windowMs);
  }

  async mark(key: string): Promise<void> {
    await this.memory.mark(key);
    if (this.redis.status !== 'ready') return;
    await this.redis.set(`ryw:${key}`, '1', 'PX', this.windowMs).catch(() => undefined);
  }

  async wroteRecently(key: string): Promise<boolean> {
    if (await this.memory.wroteRecently(key)) return true;
    if (this.redis.status !== 'ready') return false;
    return this.redis.exists(`ryw:${key}`).then(
      (n) => n > 0,
      () => false,
    );
  }
}

export function createRecentWriters(windowMs: number, redis?: Redis): RecentWriters {
  return redis ? new RedisWriters(redis, windowMs) : new MemoryWriters(windowMs);
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/**
 * The caller a write or read is keyed by: the signed-in user (verified by the security handler, or
 * for a read the token's subject as written: a forged one only sends its own request to the
 * primary), else the guest cart token, else the client's address.
 */
export function callerKey(req: Request, userId?: number | string | null): string {
  const user = userId ?? req.principal?.id ?? subjectOf(req.headers.authorization);
  if (user !== undefined && user !== null && user !== '') return `u:${user}`;
  const cart = req.get('X-Cart-Token');
  if (cart) return `c:${digest(cart)}`;
  return `a:${req.ip ?? 'unknown'}`;
}

/** The subject an access token claims, unverified; undefined for anything that is not a token with one (its payload not JSON, say). */
export function subjectOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  let claims: ReturnType<typeof decode>;
  try {
    claims = decode(token, { json: true });
  } catch {
    // jsonwebtoken throws on a payload that is base64url but not JSON: keyed as anonymous (the
    // security handler, where the operation needs one, refuses the token itself).
    return undefined;
  }
  return typeof claims?.sub === 'string' ? claims.sub : undefined;
}

export interface ReadRouting {
  writers: RecentWriters;
  /** Counts a request that could have read from a replica and read from the primary (the metric). */
  primaryRead(reason: PrimaryReadReason): void;
  /** Whether a replica is fit to read from now. */
  replicaAvailable(): boolean;
}

/**
 * After the contract's validator (which resolved the operation and the caller): a write of the
 * catalog records its caller; a catalog read by a caller who has not written lately runs the rest
 * of the request with leave to read from a replica. Any other request passes straight through.
 */
export function routeReads(routing: ReadRouting): RequestHandler {
  return (req, _res, next) => {
    const operation = (req as { openapi?: { schema?: { operationId?: string } } }).openapi?.schema?.operationId as OperationId | undefined;
    if (!operation) return next();
    if (CATALOG_WRITE_OPERATIONS.has(operation)) {
      routing.writers.mark(callerKey(req)).then(() => next(), next);
      return;
    }
    if (!REPLICA_OPERATIONS.has(operation)) return next();
    decideReplica(routing, callerKey(req)).then((replica) => (replica ? withReplicaReads(next) : next()), next);
  };
}

/** Whether the current request may read from a replica: not when its caller wrote lately or none is healthy (counted, by why). */
export async function decideReplica(routing: ReadRouting, key: string): Promise<boolean> {
  if (await routing.writers.wroteRecently(key)) {
    routing.primaryRead('recent_write');
    return false;
  }
  if (!routing.replicaAvailable()) {
    routing.primaryRead('no_healthy_replica');
    return false;
  }
  return true;
}

/** The routing of an app whose ORM has replicas (`em`'s driver); undefined without replicas (or no record of writers). */
export function replicaRouting(em: EntityManager, writers: RecentWriters | undefined): ReadRouting | undefined {
  const set = replicaSetOf(em);
  if (!set || !writers) return undefined;
  return { writers, primaryRead: (reason) => void set.primaryReads[reason]++, replicaAvailable: () => set.hasHealthy() };
}
