import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Services } from '../services';
import { sendMailJob, type Mailer } from './mail';
import type { JobPayloads } from './registry';

/** What a handler gets besides the payload. */
export interface JobContext {
  /** The job id: the same on every attempt, the key for making side effects idempotent. */
  id: string;
  name: string;
  /** 0 on the first attempt. */
  retryCount: number;
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

export interface JobDeps {
  services: Services;
  config: Config;
  mailer: Mailer;
}

/** How long a recorded side effect is remembered: longer than any job can still be retried. */
export const EFFECT_RETENTION_DAYS = 30;

/** Every job of the registry and the code that runs it: tsc refuses a job without a handler. */
export function jobHandlers({ services, config, mailer }: JobDeps): JobHandlers<JobPayloads> {
  return {
    'mail.send': sendMailJob(mailer, config.mail.from),

    'carts.expire-abandoned': async (_data, job) => {
      const deleted = await services.cart.expireAbandoned(job.em, config.carts.ttlDays);
      job.logger.info({ deleted, ttlDays: config.carts.ttlDays }, 'abandoned carts expired');
    },

    'orders.expire': async ({ orderId }, job) => {
      const cancelled = await services.orders.expire(job.em, orderId);
      job.logger.info({ orderId, cancelled }, cancelled ? 'unpaid order expired' : 'order already settled');
    },

    'orders.expire-unpaid': async (_data, job) => {
      const cancelled = await services.orders.expireUnpaid(job.em);
      if (cancelled) job.logger.info({ cancelled }, 'unpaid orders expired');
    },

    'jobs.prune-effects': async (_data, job) => {
      const { affectedRows } = await job.em.execute<QueryResult>(
        'delete from job_effects where done_at < now() - make_interval(days => ?)',
        [EFFECT_RETENTION_DAYS],
        'run',
      );
      job.logger.info({ deleted: affectedRows }, 'old job effects pruned');
    },
  };
}
