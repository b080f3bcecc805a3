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
  ];
}
