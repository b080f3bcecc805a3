import type { EntityManager } from '@mikro-orm/postgresql';
import type { PaymentMethod } from './payment.entity';

export interface ChargeRequest {
  /** Our payment id, for the provider's records. */
  paymentId: number;
  /** Minor units: always the order's total. */
  amount: number;
  currency: string;
  method: PaymentMethod;
  cardToken?: string;
  phone?: string;
  /**
   * The provider's idempotency key: our payment's `chargeKey`. The same key always answers the same
   * charge (a retried call never charges twice), and `lookup`/`reverse` find the charge by it.
   */
  idempotencyKey: string;
}

export type ChargeOutcome =
  | { status: 'succeeded'; providerReference: string }
  | { status: 'failed'; providerReference: string; failureCode: string }
  /** Waiting for the customer or the network; the provider reports the outcome through the webhook. */
  | { status: 'pending'; providerReference: string };

/**
 * What giving a charge back found: `voided` (it was still pending: cancelled, nothing taken),
 * `refunded` (it had succeeded: refunded in full), `nothing` (it failed, or the provider never
 * received it: the key is now closed, so a charge still on its way under it is declined).
 */
export type ReversalOutcome = 'voided' | 'refunded' | 'nothing';

/**
 * A payment provider, as real ones offer it (Stripe, Adyen, Saleor's transaction API): a charge
 * keyed by an idempotency key, a look-up of the charge by that key (reconciliation after we lost its
 * answer), and a keyed, idempotent void-or-refund. Every call happens outside database
 * transactions; any call may throw (network, timeout), after which its outcome is unknown.
 *
 * `em` is the caller's unit of work, outside any transaction. A remote provider ignores it; the
 * sandbox keeps its ledger in our database through it, on its own autocommit connection, never in
 * the caller's transaction (as a real provider's ledger is not).
 */
export interface PaymentProvider {
  readonly name: string;
  charge(em: EntityManager, request: ChargeRequest): Promise<ChargeOutcome>;
  /** The charge made under this key, with its current outcome; null if the provider never received one. */
  lookup(em: EntityManager, idempotencyKey: string): Promise<ChargeOutcome | null>;
  /** Gives back whatever the charge under this key reached (idempotent: a repeat answers the same). */
  reverse(em: EntityManager, idempotencyKey: string): Promise<ReversalOutcome>;
}
