import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type Redis from 'ioredis';
import { decode } from 'jsonwebtoken';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { OperationId } from '../../generated/operations';
import { replicaSetOf } from '../db/pools';
import { allowReplicaReads, type PrimaryReadReason, withReadRoute } from '../db/replicas';

/**
 * Which requests read from a replica (DATABASE_REPLICA_URLS; docs/scaling.md, "Read replicas").
 *
 * Only the catalog's reads may: the REST operations below and the GraphQL queries whose every root
 * field is a catalog one (src/graphql/replica-reads.ts). Everything else (carts, checkout, orders,
 * accounts, administration, every write, jobs) reads from the primary.
 *
 * Read-your-writes: a caller who sent a write (any method but GET, HEAD and OPTIONS; a GraphQL
 * mutation) reads from the primary for DATABASE_READ_YOUR_WRITES_MS after it, so a vendor who saves
 * a product sees it at once. The caller is the signed-in user (the access token's subject), else the
 * guest cart token (hashed), else the client's address. The write is recorded before it runs, so
 * the record is there before its answer leaves, and again when it answered 2xx, so the window
 * counts from the answer. Recorded in Redis when REDIS_URL is set (shared by every process; while
 * Redis does not answer, in this process's memory), else in memory.
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

/** Who wrote lately (read-your-writes). Never throws: a store that fails answers from memory. */
export interface RecentWriters {
  /** `key` wrote now: its reads go to the primary for the window. */
  mark(key: string): Promise<void>;
  wroteRecently(key: string): Promise<boolean>;
}

/** At most this many callers are remembered in memory; past it, the oldest are forgotten first. */
const MEMORY_MAX = 100_000;

class MemoryWriters implements RecentWriters {
  private readonly until = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  async mark(key: string): Promise<void> {
    const now = Date.now();
    // Re-inserted, so the Map's order stays the order of the last writes.
    this.until.delete(key);
    this.until.set(key, now + this.windowMs);
    if (this.until.size > MEMORY_MAX) {
      for (const [k, until] of this.until) {
        if (this.until.size <= MEMORY_MAX / 2 && until > now) break;
        this.until.delete(k);
      }
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

function subjectOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  const claims = decode(token, { json: true });
  return typeof claims?.sub === 'string' ? claims.sub : undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ReadRouting {
  writers: RecentWriters;
  /** Counts a request that could have read from a replica and read from the primary (the metric). */
  primaryRead(reason: PrimaryReadReason): void;
  /** Whether a replica is fit to read from now. */
  replicaAvailable(): boolean;
}

/** Every request runs with a route that reads from the primary until an adapter allows a replica. Mount before GraphQL and REST. */
export function readRouteScope(): RequestHandler {
  return (_req, _res, next) => withReadRoute(next);
}

/**
 * After the contract's validator (which resolved the operation and the caller): a write records its
 * caller; a catalog read by a caller who has not written lately may read from a replica.
 */
export function routeReads(routing: ReadRouting): RequestHandler {
  return (req, res, next) => {
    const operation = (req as { openapi?: { schema?: { operationId?: string } } }).openapi?.schema?.operationId as OperationId | undefined;
    const key = callerKey(req);
    if (!SAFE_METHODS.has(req.method)) {
      res.on('finish', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) void routing.writers.mark(key);
      });
      routing.writers.mark(key).then(() => next(), next);
      return;
    }
    if (!operation || !REPLICA_OPERATIONS.has(operation)) return next();
    decideReplica(routing, key).then(() => next(), next);
  };
}

/** Allows the current request a replica unless its caller wrote lately; counts why it reads from the primary. */
export async function decideReplica(routing: ReadRouting, key: string): Promise<void> {
  if (await routing.writers.wroteRecently(key)) return routing.primaryRead('recent_write');
  if (!routing.replicaAvailable()) routing.primaryRead('no_healthy_replica');
  allowReplicaReads();
}

/** The routing of an app whose ORM has replicas (`em`'s driver); undefined without replicas. */
export function replicaRouting(em: EntityManager, writers: RecentWriters): ReadRouting | undefined {
  const set = replicaSetOf(em);
  if (!set) return undefined;
  return { writers, primaryRead: (reason) => void set.primaryReads[reason]++, replicaAvailable: () => set.hasHealthy() };
}
