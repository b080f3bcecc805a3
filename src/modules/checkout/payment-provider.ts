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

/** A partial (or whole) refund of a succeeded charge. */
export interface RefundRequest {
  /** The charge's idempotency key (`chargeKey` of our payment). */
  chargeKey: string;
  /** The refund's own idempotency key (`refundKey` of our refund): the same key never refunds twice. */
  refundKey: string;
  /** Minor units, more than 0. */
  amount: number;
  currency: string;
}

/**
 * What a refund did: `succeeded` (the money goes back; a repeat with the same key answers the same),
 * or `failed` (refused: the charge did not succeed, or the amount exceeds what it took minus its
 * earlier refunds; nothing moved).
 */
export type RefundOutcome = { status: 'succeeded'; providerReference: string } | { status: 'failed'; failureCode: string };

/**
 * A payment provider, as real ones offer it (Stripe, Adyen, Saleor's transaction API): a charge
 * keyed by an idempotency key, a look-up of the charge by that key (reconciliation after we lost its
 * answer), a keyed, idempotent void-or-refund, and keyed partial refunds. Every call happens outside database
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
  /**
   * Refunds part (or all) of a succeeded charge, idempotent by `refundKey`; refuses more than the
   * charge took minus its earlier refunds. A later `reverse` of the charge gives back only the rest.
   */
  refund(em: EntityManager, request: RefundRequest): Promise<RefundOutcome>;
}

/**
 * Runs a provider call, abandoning it after `ms` (it then fails as if the network had: its outcome
 * is unknown, and reconciliation or the job's retry settles it).
 */
export async function withinTimeout<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the payment provider did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
