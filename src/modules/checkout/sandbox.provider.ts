import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChargeOutcome, ChargeRequest, PaymentProvider, RefundOutcome, RefundRequest, ReversalOutcome } from './payment-provider';
import { type NewSandboxCharge, type SandboxCharge, SandboxLedger } from './sandbox-ledger';

/** A provider event the sandbox wants delivered to our webhook. */
export interface SandboxEvent {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  data: { provider_reference: string; failure_code?: string };
}

/**
 * Hands a later confirmation to the webhook sender: after its delay the sender calls `due`, which
 * settles the charge in the ledger and returns the event to post (null if there is none any more:
 * the charge was voided meanwhile).
 */
export type SandboxDelivery = (due: () => Promise<SandboxEvent | null>) => Promise<void>;

/**
 * A built-in provider that behaves like a real one, for development and tests:
 * - cards settle at once by token: `tok_success` succeeds; `tok_decline` and `tok_insufficient_funds`
 *   are declined; `tok_requires_confirmation` stays pending and is confirmed later by webhook;
 *   any other token is declined as `invalid_token`;
 * - mobile payments stay pending and are confirmed (or, for numbers ending in 0000, declined) later
 *   by webhook;
 * - the same idempotency key always answers the same outcome and reference;
 * - `lookup` finds a charge by its key, `reverse` voids or refunds it (once), and closes a key that
 *   has no charge so a late charge under it is declined;
 * - `refund` gives back part of a succeeded charge under its own key (once per key), never more than
 *   the charge took minus its earlier refunds (`sandbox_provider_refunds`).
 * Its records live in `sandbox_provider_charges` (SandboxLedger), written outside our transactions,
 * so they survive a crash of our process like a real provider's. A pending charge settles when its
 * confirmation is delivered or, if that delivery was lost (our process died), when it is looked up
 * after its confirmation time.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  private readonly ledger = new SandboxLedger();

  constructor(
    private readonly deliver: SandboxDelivery,
    private readonly confirmDelayMs = 5_000,
  ) {}

  async charge(em: EntityManager, req: ChargeRequest): Promise<ChargeOutcome> {
    const db = em.getConnection();
    const reference = `sbx_${createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 24)}`;
    const created = await this.ledger.insert(db, this.decide(req, reference));
    if (!created) {
      // A replay: the same answer as the first time (as it is now).
      const known = await this.ledger.find(db, req.idempotencyKey);
      return known ? chargeOutcome(known) : { status: 'failed', providerReference: reference, failureCode: 'voided' };
    }
    if (created.status === 'pending') {
      await this.deliver(async () => {
        const settled = await this.ledger.settle(db, req.idempotencyKey, { dueOnly: false });
        return settled ? settlementEvent(settled) : null;
      });
    }
    return chargeOutcome(created);
  }

  async lookup(em: EntityManager, idempotencyKey: string): Promise<ChargeOutcome | null> {
    const known = await this.ledger.find(em.getConnection(), idempotencyKey);
    return known && known.status !== 'closed' ? chargeOutcome(known) : null;
  }

  async reverse(em: EntityManager, idempotencyKey: string): Promise<ReversalOutcome> {
    const db = em.getConnection();
    // What is due has happened: a confirmed charge is refunded, not voided.
    await this.ledger.settle(db, idempotencyKey, { dueOnly: true });
    if (await this.ledger.close(db, idempotencyKey)) return 'nothing';
    const now = await this.ledger.reverse(db, idempotencyKey);
    if (now?.status === 'voided') return 'voided';
    if (now?.status === 'refunded') return 'refunded';
    return 'nothing';
  }

  async refund(em: EntityManager, req: RefundRequest): Promise<RefundOutcome> {
    const db = em.getConnection();
    const reference = `sbx_re_${createHash('sha256').update(req.refundKey).digest('hex').slice(0, 21)}`;
    // What is due has happened: a charge confirmed meanwhile can be refunded.
    await this.ledger.settle(db, req.chargeKey, { dueOnly: true });
    const made = (await this.ledger.refund(db, { key: req.refundKey, chargeKey: req.chargeKey, reference, amount: req.amount, currency: req.currency })) ?? (await this.ledger.findRefund(db, req.refundKey));
    if (made && made.charge_key === req.chargeKey && Number(made.amount) === req.amount) return { status: 'succeeded', providerReference: made.reference };
    if (made) return { status: 'failed', failureCode: 'refund_key_reused' };
    return { status: 'failed', failureCode: 'amount_exceeds_refundable' };
  }

  private decide(req: ChargeRequest, reference: string): NewSandboxCharge {
    const base = { key: req.idempotencyKey, reference, amount: req.amount, currency: req.currency, method: req.method, failureCode: null };
    const pending = (to: 'succeeded' | 'failed', failureCode: string | null = null): NewSandboxCharge => ({
      ...base,
      status: 'pending',
      settles: { afterMs: this.confirmDelayMs, to, failureCode },
    });
    const failed = (failureCode: string): NewSandboxCharge => ({ ...base, status: 'failed', failureCode });
    if (req.method === 'mobile') return (req.phone ?? '').endsWith('0000') ? pending('failed', 'mobile_declined') : pending('succeeded');
    switch (req.cardToken) {
      case 'tok_success':
        return { ...base, status: 'succeeded' };
      case 'tok_requires_confirmation':
        return pending('succeeded');
      case 'tok_decline':
        return failed('card_declined');
      case 'tok_insufficient_funds':
        return failed('insufficient_funds');
      default:
        return failed('invalid_token');
    }
  }
}

/** A charge as the provider answers it: a refunded charge had succeeded; a voided or closed one took nothing. */
function chargeOutcome(c: SandboxCharge): ChargeOutcome {
  const providerReference = c.reference;
  switch (c.status) {
    case 'pending':
      return { status: 'pending', providerReference };
    case 'succeeded':
    case 'refunded':
      return { status: 'succeeded', providerReference };
    case 'failed':
      return { status: 'failed', providerReference, failureCode: c.failure_code ?? 'declined' };
    case 'voided':
    case 'closed':
      return { status: 'failed', providerReference, failureCode: 'voided' };
  }
}

/** The webhook event announcing a settled charge; its id is stable, so a repeated delivery is a duplicate. */
function settlementEvent(c: SandboxCharge): SandboxEvent {
  return c.status === 'succeeded'
    ? { id: `evt_${c.reference}_succeeded`, type: 'payment.succeeded', data: { provider_reference: c.reference } }
    : { id: `evt_${c.reference}_failed`, type: 'payment.failed', data: { provider_reference: c.reference, failure_code: c.failure_code ?? 'declined' } };
}
