import type { QueryResult } from '@mikro-orm/core';
import type { Config } from '../config';
import type { Services } from '../services';
import { sendMailJob, type Mailer } from './mail';
import type { JobHandlers } from './job';
import type { JobPayloads } from './registry';

export type { JobContext, JobHandler, JobHandlers } from './job';

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

    'accounts.password-reset': async ({ userId }, job) => {
      await services.recovery.mailPasswordReset(job.em, userId);
    },

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

    'payments.reconcile': async (_data, job) => {
      const { reconciled, failed } = await services.payments.reconcileDue(job.em);
      for (const r of reconciled) {
        // An unknown outcome is worth a warning: the process died, or the provider did not answer.
        const line = { paymentId: r.paymentId, orderId: r.orderId, status: r.status, failureCode: r.failureCode };
        if (r.wasAnswered) job.logger.info(line, 'pending payment reconciled with the provider');
        else job.logger.warn(line, 'payment with an unknown outcome reconciled with the provider');
      }
      for (const f of failed) job.logger.warn({ paymentId: f.paymentId, err: f.error }, 'payment not reconciled: the provider did not answer (next run retries)');
    },

    'payments.refund-order': async ({ orderId }, job) => {
      const reversals = await services.payments.refundOrder(job.em, orderId);
      for (const r of reversals) job.logger.info({ orderId, paymentId: r.paymentId, provider: r.outcome, status: r.status }, 'payment given back');
    },

    'payments.refund': async ({ refundId }, job) => {
      const result = await services.returns.processRefund(job.em, refundId);
      job.logger.info({ refundId, orderId: result?.orderId, status: result?.status ?? 'already recorded' }, 'refund made');
    },

    'catalog.import': async ({ importId }, job) => {
      const done = await services.catalogImports.run(job.em, importId).catch(async (err: unknown) => {
        // The last attempt: the import says it failed rather than staying `running` for ever.
        if (job.retryCount >= job.retryLimit) await services.catalogImports.giveUp(job.em.fork(), importId);
        throw err;
      });
      job.logger.info({ importId, status: done?.status, rows: done?.rowsDone, created: done?.created, updated: done?.updated, rejected: done?.rejected }, 'catalog import ran');
    },

    'media.resize': async ({ mediaId }, job) => {
      const outcome = await services.media.resize(job.em, mediaId);
      if (outcome === 'failed') job.logger.warn({ mediaId }, 'media variants could not be made: marked failed');
      else job.logger.info({ mediaId, outcome }, outcome === 'gone' ? 'media gone: nothing to resize' : 'media variants made');
    },

    'media.purge': async ({ productId, keys }, job) => {
      const outcome = await services.media.purge(job.em, productId, keys);
      job.logger.info({ productId, objects: keys.length, outcome }, outcome === 'kept' ? 'product still exists: media files kept' : "deleted product's media files removed");
    },

    'webhooks.deliver': async ({ deliveryId }, job) => {
      const outcome = await services.webhooks.deliver(job.em, deliveryId, { retryCount: job.retryCount, retryLimit: job.retryLimit, signal: job.signal });
      // A failed attempt with retries left fails the job: pg-boss retries it after its backoff.
      if (outcome === 'retry') throw new Error(`webhook delivery ${deliveryId}: attempt ${job.retryCount + 1} failed`);
      if (outcome === 'busy') throw new Error(`webhook delivery ${deliveryId}: its endpoint stayed at its concurrency limit; retried later`);
      if (outcome === 'failed') job.logger.warn({ deliveryId }, 'webhook delivery failed: no attempts left');
      else job.logger.debug({ deliveryId, outcome }, 'webhook delivery');
    },

    'webhooks.prune': async (_data, job) => {
      const pruned = await services.webhooks.prune(job.em);
      job.logger.info({ pruned, retentionDays: config.webhooks.retentionDays }, 'old webhook events pruned');
    },

    'checkout.purge-idempotency-keys': async (_data, job) => {
      const purged = await services.orders.purgeIdempotencyKeys(job.em);
      job.logger.info({ purged, ttlHours: config.checkout.idempotencyTtlHours }, 'old idempotency keys purged');
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
