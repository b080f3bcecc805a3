/**
 * Failpoints: named places in multi-step effects where a crash would be most harmful. Tests arm
 * some at start (`FAILPOINTS=payment.after-charge,...`, see config.ts) and the process kills itself
 * with SIGKILL when it reaches one: a real crash, not an exception, so nothing after that point runs
 * (no catch, no finally, no rollback but PostgreSQL's own). Test-only: nothing is armed unless
 * FAILPOINTS is set, and config refuses it in production unless FAILPOINTS_ALLOW_PRODUCTION=true.
 */
import { writeSync } from 'node:fs';

/** Every failpoint, with what has happened and what has not when it fires. */
export const FAILPOINT_NAMES = [
  /** The payment attempt is committed; the provider has not been called. */
  'payment.before-charge',
  /** The provider charged (or declined); its answer is not recorded. */
  'payment.after-charge',
  /** Inside the webhook's transaction: the event is recorded, its effect not applied, nothing committed. */
  'payment.webhook.after-record',
  /** In the refund job: the provider voided or refunded the charge; that is not recorded. */
  'payment.after-reverse',
  /** In the refund job: the refund and its job are committed; the provider has not been asked. */
  'refund.before-provider',
  /** In the refund job: the provider made (or refused) the refund; that is not recorded. */
  'refund.after-provider',
  /** The returned shipment, the refunded order and the refund job are committed; nothing else ran. */
  'shipment.after-return',
  /** Inside the rotation's transaction: the old refresh token is marked used, the new one not written. */
  'auth.refresh.after-use',
  /** In a catalog import's batch transaction: every write of the batch and its progress done, nothing committed. */
  'catalog-import.before-commit',
  /** A catalog import's batch (its writes and progress) is committed; the next batch has not started. */
  'catalog-import.after-batch',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

let armed: ReadonlySet<string> = new Set();

/** Arms exactly these failpoints in this process (the composition root calls it once at start). */
export function armFailpoints(names: readonly FailpointName[]): void {
  armed = new Set(names);
}

/** Kills this process with SIGKILL if the failpoint is armed; otherwise does nothing. */
export function failpoint(name: FailpointName): void {
  if (!armed.has(name)) return;
  // Synchronous, so the line is out before the process dies; tests read it from stderr.
  writeSync(2, `failpoint ${name}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
