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
  /** Deletes carts nobody changed for CART_TTL_DAYS (scheduled: CART_EXPIRY_CRON). */
  'carts.expire-abandoned': NoPayload;
  /** Forgets the side effects recorded for jobs long finished (scheduled daily). */
  'jobs.prune-effects': NoPayload;
  /** Cancels one order if it is still unpaid (sent with the order, to run when its payment window ends). */
  'orders.expire': { orderId: number };
  /** Cancels every unpaid order past its window (scheduled: a safety net for missed expiry jobs). */
  'orders.expire-unpaid': NoPayload;
}

export type JobName = keyof JobPayloads;

export const jobDefinitions: JobDefinitions<JobPayloads> = {
  // A mail server that is down for a while: 30 s, 1 min, 2 min, ... capped at 30 min, for about 4 hours.
  'mail.send': { retryLimit: 12, retryDelay: 30, retryBackoff: true, retryDelayMax: 1800, expireInSeconds: 120 },
  // One run at a time: a tick that finds the previous run still queued or running is dropped.
  'carts.expire-abandoned': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  'jobs.prune-effects': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
  // Idempotent: an order already paid or cancelled is left alone.
  'orders.expire': { retryLimit: 10, retryDelay: 30, retryBackoff: true, retryDelayMax: 900, singletonKey: (d) => `order-${d.orderId}` },
  'orders.expire-unpaid': { retryLimit: 3, retryDelay: 60, retryBackoff: true, policy: 'exclusive' },
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
  ];
}
