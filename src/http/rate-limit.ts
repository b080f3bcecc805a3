import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Counts failures per key over a window; shared through Redis when several processes serve traffic. */
export interface FailureLimiter {
  /** Seconds to wait when the key is blocked, otherwise 0. */
  blockedFor(key: string): Promise<number>;
  /** Records a failure; returns the seconds to wait if this failure exhausted the allowance, otherwise 0. */
  fail(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

export function createFailureLimiter(
  name: string,
  points: number,
  windowSeconds: number,
  redis?: Redis,
): FailureLimiter {
  const options = { keyPrefix: `rl:${name}`, points, duration: windowSeconds, blockDuration: windowSeconds };
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({ ...options, storeClient: redis, useRedisPackage: false })
    : new RateLimiterMemory(options);
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    async blockedFor(key) {
      const res = await limiter.get(key);
      return res && res.consumedPoints >= points ? seconds(res.msBeforeNext) : 0;
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
