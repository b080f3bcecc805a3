import type { RequestHandler } from 'express';
import type Redis from 'ioredis';
import type {} from 'pino-http';
import { type IRateLimiterOptions, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../shared/errors';

/** Counts failures per key over a window; shared through Redis when several processes serve traffic. */
export interface FailureLimiter {
  /** Seconds to wait when the key is blocked, otherwise 0. */
  blockedFor(key: string): Promise<number>;
  /** Failures recorded for the key in the current window. */
  failures(key: string): Promise<number>;
  /** Records a failure; returns the seconds to wait if this failure exhausted the allowance, otherwise 0. */
  fail(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

/**
 * Where the limits are counted: in Redis when there is one (shared by every process), else in this
 * process's memory. With Redis, this process's memory is the fallback while Redis does not answer
 * (rate-limiter-flexible's insurance limiter): a command that fails or times out (REDIS_TIMEOUT_MS,
 * src/redis.ts), or a client not connected, is answered from memory at once, so an outage of Redis
 * makes the limits per process for a while and never holds a request. `fallbacks` counts the
 * operations answered that way (the `rate_limit_store_fallback_total` metric): each read, count or
 * reset of a limit is one (a login reads its throttle before checking the password, and records a
 * failure or clears it after), not one per request.
 */
export interface LimitStore {
  redis?: Redis;
  fallbacks: number;
}

export function limitStore(redis?: Redis): LimitStore {
  return { redis, fallbacks: 0 };
}

/** This process's memory as Redis's fallback, counting each operation it answers (it is only asked when Redis failed). */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    options: IRateLimiterOptions,
    private readonly store: LimitStore,
  ) {
    super(options);
  }

  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.store.fallbacks++;
    return super.consume(key, points, options);
  }

  override get(key: string | number, options?: Record<string, unknown>): Promise<RateLimiterRes | null> {
    this.store.fallbacks++;
    return super.get(key, options);
  }

  override delete(key: string | number, options?: Record<string, unknown>): Promise<boolean> {
    this.store.fallbacks++;
    return super.delete(key, options);
  }
}

/** A rate limiter in Redis when the store has one (shared by every process), else in this process's memory. */
function limiterFor(options: IRateLimiterOptions, store: LimitStore): RateLimiterAbstract {
  if (!store.redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({
    ...options,
    storeClient: store.redis,
    useRedisPackage: false,
    // Not connected (or reconnecting after a timeout): straight to the fallback, no command sent.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new FallbackLimiter(options, store),
  });
}

export function createFailureLimiter(
  name: string,
  points: number,
  windowSeconds: number,
  store: LimitStore = limitStore(),
): FailureLimiter {
  const limiter = limiterFor({ keyPrefix: `rl:${name}`, points, duration: windowSeconds, blockDuration: windowSeconds }, store);
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    async blockedFor(key) {
      const res = await limiter.get(key);
      return res && res.consumedPoints >= points ? seconds(res.msBeforeNext) : 0;
    },
    async failures(key) {
      return (await limiter.get(key))?.consumedPoints ?? 0;
    },
    async fail(key) {
      try {
        const res = await limiter.consume(key);
        return res.remainingPoints <= 0 ? seconds(res.msBeforeNext) : 0;
      } catch (rejected) {
        if (rejected instanceof RateLimiterRes) return seconds(rejected.msBeforeNext);
        throw rejected;
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

/** The state of a client's allowance after one request. */
export interface Allowance {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

/** Counts every request per client over a fixed window (in memory, or in Redis across processes). */
export interface RequestLimiter {
  hit(key: string): Promise<Allowance>;
}

export function createRequestLimiter(points: number, windowSeconds: number, store: LimitStore = limitStore()): RequestLimiter {
  const limiter = limiterFor({ keyPrefix: 'rl:requests', points, duration: windowSeconds }, store);
  const state = (res: RateLimiterRes, allowed: boolean): Allowance => ({
    allowed,
    limit: points,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(allowed ? 0 : 1, Math.ceil(res.msBeforeNext / 1000)),
  });
  return {
    async hit(key) {
      try {
        return state(await limiter.consume(key), true);
      } catch (rejected) {
        if (rejected instanceof RateLimiterRes) return state(rejected, false);
        throw rejected;
      }
    },
  };
}

/**
 * Rate-limits every request by client address (`req.ip`, so set TRUST_PROXY behind a proxy) and
 * tells the client where it stands with the `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` headers (IETF draft httpapi-ratelimit-headers); past the limit, 429
 * `RATE_LIMITED` with `Retry-After`. `exempt` paths (health probes) are never counted. While Redis
 * does not answer, the limiter counts in this process's memory (LimitStore); should even that fail,
 * requests go through: an outage of the limits' store must not take the API down.
 */
export function rateLimitRequests(limiter: RequestLimiter, exempt: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    if (exempt.has(req.path)) return next();
    limiter.hit(req.ip ?? 'unknown').then(
      (a) => {
        res.set({ 'RateLimit-Limit': String(a.limit), 'RateLimit-Remaining': String(a.remaining), 'RateLimit-Reset': String(a.resetSeconds) });
        if (a.allowed) return next();
        next(new DomainError('throttled', 'RATE_LIMITED', 'Too many requests; try again later.', {}, a.resetSeconds));
      },
      (err: unknown) => {
        req.log?.warn({ err }, 'rate limiter unavailable; request let through');
        next();
      },
    );
  };
}
