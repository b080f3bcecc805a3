/**
 * Every background job: its name, its payload type and its retry policy. To add a job, add its
 * payload to `JobPayloads`, its definition to `jobDefinitions` and its handler to `jobHandlers`
 * (src/jobs/handlers.ts); tsc points at whichever is missing. Payloads are JSON: ids and values,
 * never entities. See docs/architecture.md, "Background jobs".
 */
import type { Config } from '../config';
import type { MailMessage } from './mail';
import type { JobDefinitions } from './job';

/** A job that needs no payload (scheduled maintenance). */
export type NoPayload = Record<string, never>;

export interface JobPayloads {
  /** Sends one e-mail (at most once per job, whatever the retries). */
  'mail.send': MailMessage;
  /**
   * Mails a password reset token to the account (null: nobody; sent by every reset request, whether
   * or not an account uses the email, so all take the same time).
   */
  'accounts.password-reset': { userId: number | null };
  /** Deletes carts nobody changed for CART_TTL_DAYS (scheduled: CART_EXPIRY_CRON). */
  'carts.expire-abandoned': NoPayload;
  /** Forgets the side effects recorded for jobs long finished (scheduled daily). */
  'jobs.prune-effects': NoPayload;
  /** Cancels one order if it is still unpaid (sent with the order, to run when its payment window ends). */
  'orders.expire': { orderId: number };
  /** Cancels every unpaid order past its window (scheduled: a safety net for missed expiry jobs). */
  'orders.expire-unpaid': NoPayload;
  /**
   * Asks the provider about every payment pending past the provider timeout, and records what it
   * did (scheduled every minute): payments whose answer was lost, and confirmations that never came.
   */
  'payments.reconcile': NoPayload;
  /**
   * Voids or refunds whatever a cancelled or refunded order's payments reached (sent by
   * `order.refund_due`, in the transaction that cancels the order, records a return, or records a
   * charge that succeeded after its order was cancelled).
   */
  'payments.refund-order': { orderId: number };
  /**
   * Makes one recorded refund (a return's, partial or whole) at the provider, keyed by the refund
   * (sent by `order.refund_requested`, in the transaction that records the refund).
   */
  'payments.refund': { refundId: number };
  /** Deletes Idempotency-Keys older than IDEMPOTENCY_TTL_HOURS (scheduled hourly). */
  'checkout.purge-idempotency-keys': NoPayload;
  /**
   * Sends one webhook delivery (sent in the transaction that records its event). `key` is
   * `<endpoint>:<aggregate>:<id>`: one at a time and in order per key; `endpointId` groups the jobs
   * for the per-endpoint limit (WEBHOOK_ENDPOINT_CONCURRENCY).
   */
  'webhooks.deliver': { deliveryId: number; endpointId: number; key: string };
  /** Deletes webhook events and deliveries older than WEBHOOK_RETENTION_DAYS (scheduled daily). */
  'webhooks.prune': NoPayload;
  /**
   * Makes an uploaded image's thumbnail and medium WebP variants and marks it ready (sent in the
   * upload's transaction). Idempotent: a rerun writes the same keys; a media deleted meanwhile is left alone.
   */
  'media.resize': { mediaId: number };
  /**
   * Removes a deleted product's stored objects, originals and variants (sent in the delete's
   * transaction, with the keys its media rows held before they went). Does nothing while the
   * product exists (deactivated instead of deleted). Idempotent: a missing object is not an error.
   */
  'media.purge': { productId: number; keys: string[] };
  /**
   * Applies an uploaded catalog file batch by batch (sent in the upload's transaction). Resumes
   * after the last committed batch: each batch commits with the import's progress.
   */
  'catalog.import': { importId: number };
}

export type JobName = keyof JobPayloads;

export const jobDefinitions: JobDefinitions<JobPayloads> = {
  // A mail server that is down for a while: 30 s, 1 min, 2 min, ... capped at 30 min, for about 4 hours.
  'mail.send': { retryLimit: 12, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 120 },
  // One run at a time: a tick that finds the previous run still queued or running is dropped.
  // A retry after a rollback mails once; one after a lost completion may mail a second valid token.
  'accounts.password-reset': { retryLimit: 5, retryDelay: 30, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 120 },
  'carts.expire-abandoned': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  'jobs.prune-effects': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  // Idempotent: an order already paid or cancelled is left alone.
  'orders.expire': { retryLimit: 10, retryDelay: 30, retryBackoff: true, retryDelayMax: 900, singletonKey: (d) => `order-${d.orderId}` },
  'orders.expire-unpaid': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  // A run that cannot reach the provider leaves those payments for the next tick.
  'payments.reconcile': { retryLimit: 2, retryDelay: 20, retryBackoff: true, policy: 'exclusive', expireInSeconds: 600, heartbeatSeconds: 30 },
  // Money owed back: a provider that is down for a while is retried for about 8 hours (5 s, 10 s, ...
  // capped at 30 min). Idempotent: each reversal is keyed by the payment's charge, and a payment is
  // changed only once the provider did it. A worker killed mid-job: the heartbeat stops and the job is retried.
  'payments.refund-order': { retryLimit: 20, retryDelay: 5, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 600, heartbeatSeconds: 10 },
  'checkout.purge-idempotency-keys': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  // Like payments.refund-order: retried for hours; idempotent, keyed at the provider by the refund.
  'payments.refund': { retryLimit: 20, retryDelay: 5, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 600, heartbeatSeconds: 10 },
  // A receiver down for a while: 30 s, 1 min, 2 min, ... capped at 1 h, 30 retries: about a day.
  // Each job carries the policy it was sent with (WEBHOOK_RETRY_LIMIT, WEBHOOK_RETRY_DELAY_SECONDS:
  // src/services.ts), these are the queue's defaults. FIFO per key; a worker killed mid-send: the
  // heartbeat stops and the job is retried (same webhook-id).
  'webhooks.deliver': {
    retryLimit: 30,
    retryDelay: 30,
    retryBackoff: true,
    retryDelayMax: 3600,
    expireInSeconds: 180,
    heartbeatSeconds: 10,
    policy: 'key_strict_fifo',
    singletonKey: (d) => d.key,
    group: (d) => `endpoint-${d.endpointId}`,
    groupConcurrency: (config) => config.webhooks.endpointConcurrency,
    // HTTP-bound: more at once than the other queues (each endpoint is still bounded by its group).
    concurrency: 8,
  },
  'webhooks.prune': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  // A database that is away for a while: 5 s, 10 s, ... capped at 5 min. One run per import at a time;
  // a killed worker's heartbeat stops and the next attempt resumes after the last committed batch.
  'catalog.import': { retryLimit: 10, retryDelay: 5, retryBackoff: true, retryDelayMax: 300, expireInSeconds: 3600, heartbeatSeconds: 10, singletonKey: (d) => `import-${d.importId}`, policy: 'singleton' },
  // Storage that is down for a while (S3): 10 s, 20 s, ... capped at 10 min, for about an hour.
  'media.resize': { retryLimit: 8, retryDelay: 10, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300 },
  // Like media.resize: storage down for a while is retried for about an hour (then the files stay orphaned).
  'media.purge': { retryLimit: 8, retryDelay: 10, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 300 },
};

export interface JobSchedule {
  name: JobName;
  /** Cron expression, UTC. */
  cron: string;
}

/** What runs on a clock (the worker registers these, and removes schedules no longer listed). */
export function jobSchedules(config: Config): JobSchedule[] {
  return [
    { name: 'carts.expire-abandoned', cron: config.carts.expiryCron },
    { name: 'jobs.prune-effects', cron: '17 3 * * *' },
    { name: 'orders.expire-unpaid', cron: '*/5 * * * *' },
    { name: 'payments.reconcile', cron: '* * * * *' },
    { name: 'checkout.purge-idempotency-keys', cron: '41 * * * *' },
    { name: 'webhooks.prune', cron: '23 4 * * *' },
  ];
}
