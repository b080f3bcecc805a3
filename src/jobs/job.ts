/**
 * The vocabulary of background jobs, shared by the registry (what jobs exist), the queue (how they
 * are sent and worked) and the handlers (what they do).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../config';

/**
 * How pg-boss lets jobs of one queue coexist (fixed when the queue is created): `standard` (any
 * number), `short` (one queued per singleton key), `singleton` (one active per key), `stately` (one
 * queued and one active per key), `exclusive` (one queued or active per key), `key_strict_fifo`
 * (jobs of one singleton key run one at a time, in the order they were sent; a job in retry, or
 * failed, holds back the later ones of its key: its handler should complete on its last attempt).
 */
export type QueuePolicy = 'standard' | 'short' | 'singleton' | 'stately' | 'exclusive' | 'key_strict_fifo';

/** What the registry says about one job: its retry policy, deduplication and limits. */
export interface JobDefinition<P> {
  /** Retries after the first failed attempt; then the job lands `failed` (and stays for inspection). */
  retryLimit: number;
  /** Seconds before the first retry. */
  retryDelay: number;
  /** Exponential backoff: each retry waits about twice as long as the previous one (with jitter). */
  retryBackoff: true;
  /** Upper bound on one backoff delay, in seconds. */
  retryDelayMax?: number;
  /** Seconds one attempt may run before pg-boss fails it (and retries it). pg-boss default: 15 minutes. */
  expireInSeconds?: number;
  /**
   * The worker running a job of this queue writes a heartbeat every half of this (≥ 10 s); a job
   * whose heartbeat stops (its worker was killed) is failed and retried by the next supervision
   * (JOBS_SUPERVISE_SECONDS) instead of waiting out `expireInSeconds`. Fixed when the queue is created.
   */
  heartbeatSeconds?: number;
  /** See QueuePolicy; default `standard`. */
  policy?: QueuePolicy;
  /** Deduplication key computed from the payload; what it dedupes depends on `policy`. */
  singletonKey?: (data: P) => string;
  /** Jobs of this queue one worker process runs at once (default JOBS_CONCURRENCY). */
  concurrency?: number;
  /** The group a job belongs to (computed from the payload), for `groupConcurrency`. */
  group?: (data: P) => string;
  /** Jobs of one group running at once across every worker (pg-boss counts them in the database). */
  groupConcurrency?: (config: Config) => number;
}

/** A definition for every job name of a payload map. */
export type JobDefinitions<M> = { [N in keyof M & string]: JobDefinition<M[N]> };

/** What a handler gets besides the payload. */
export interface JobContext {
  /** The job id: the same on every attempt, the key for making side effects idempotent. */
  id: string;
  name: string;
  /** 0 on the first attempt. */
  retryCount: number;
  /** Retries the job may have after its first attempt: `retryCount === retryLimit` is the last attempt. */
  retryLimit: number;
  /** Aborted when the attempt expires or the worker stops without waiting. */
  signal: AbortSignal;
  /** A fresh unit of work for this attempt (no transaction: open one with `em.transactional`). */
  em: EntityManager;
  /** Logs with the job name, id and attempt. */
  logger: Logger;
  /**
   * Runs a side effect outside the database (a mail, a call to a provider) at most once per job and
   * `effect` name: once `run` has succeeded it is recorded under the job id, and later attempts skip
   * it. Resolves true if it ran now, false if an earlier attempt had done it.
   */
  once(effect: string, run: () => Promise<unknown>): Promise<boolean>;
}

/**
 * Handles one job. It may run more than once for the same job (retries, a worker that died after
 * the work but before the completion was recorded), so it must be idempotent: guard database
 * changes with their state (`update ... where status = 'pending'`) in one transaction, and wrap
 * effects outside the database in `job.once`.
 */
export type JobHandler<P> = (data: P, job: JobContext) => Promise<void>;

export type JobHandlers<M> = { [N in keyof M & string]: JobHandler<M[N]> };
