/**
 * The Redis client of a web process (REDIS_URL): shared rate limits and login throttling (and any
 * other shared state) go through it. Redis is shared state, not a single point of failure: every
 * wait on it is bounded by REDIS_TIMEOUT_MS, and while it is frozen or gone the client refuses
 * commands at once instead of queueing them, so its users fall back (the limits to this process's
 * memory, src/http/rate-limit.ts) without a request waiting on Redis.
 */
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * ioredis's own connection state is the circuit breaker: a command unanswered for the timeout
 * fails ("Command timed out"), a connection silent for the timeout after a write is dropped
 * (`socketTimeout`), and until a reconnection has passed the ready check (an INFO that a frozen
 * server never answers) the client is not `ready` and, without an offline queue, rejects every
 * command immediately. So only the commands sent in the first moment of an outage wait the
 * timeout; the rest fail in no time until Redis answers again.
 */
function redisOptions(config: Pick<Config, 'redisUrl' | 'redisTlsVerify' | 'redisTimeoutMs'>) {
  const timeout = config.redisTimeoutMs;
  return {
    lazyConnect: false,
    enableOfflineQueue: false,
    commandTimeout: timeout,
    socketTimeout: timeout,
    // Connecting is not on a request's path (commands are refused meanwhile): a little more room.
    connectTimeout: Math.max(timeout * 4, 1000),
    // A command that got no answer has already failed its caller: never sent again on reconnection
    // (a rate limit's increment would count twice).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Reconnect quickly, then every 2 s at most: the fallback ends soon after Redis is back.
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    // rediss:// turns TLS on; REDIS_TLS=no-verify accepts a self-signed certificate (Heroku).
    ...(config.redisUrl?.startsWith('rediss:') && !config.redisTlsVerify ? { tls: { rejectUnauthorized: false } } : {}),
  };
}

/**
 * Connects to REDIS_URL and logs each change of reachability once: a warning when Redis stops
 * answering (the limits are then this process's own), an info line when it answers again.
 */
export function connectRedis(config: Pick<Config, 'redisUrl' | 'redisTlsVerify' | 'redisTimeoutMs'>, logger: Logger): Redis {
  const redis = new Redis(config.redisUrl!, redisOptions(config));
  let up = false;
  let warned = false;
  let lastError: string | undefined;
  const fellBack = () => {
    up = false;
    if (warned) return;
    warned = true;
    logger.warn({ error: lastError }, "Redis is not answering: rate limits and login throttling fall back to this process's memory");
  };
  redis.on('ready', () => {
    up = true;
    if (warned) logger.info('Redis answers again: rate limits and login throttling are shared again');
    else logger.info('connected to Redis: rate limits and login throttling are shared by every process');
    warned = false;
  });
  // Without a listener ioredis prints every failed reconnection to stderr; the transition is logged once.
  redis.on('error', (err: Error) => {
    lastError = err.message;
    logger.debug({ error: err.message }, 'Redis error');
    if (!up) fellBack();
  });
  // A dropped connection (a timeout, Redis gone); `end` is our own quit at shutdown.
  redis.on('close', () => {
    if (redis.status !== 'end') fellBack();
  });
  return redis;
}
