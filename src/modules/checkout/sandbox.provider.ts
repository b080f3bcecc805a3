import { createHash, randomUUID } from 'node:crypto';
import type { ChargeOutcome, ChargeRequest, PaymentProvider } from './payment-provider';

/** A provider event the sandbox wants delivered to our webhook (after `delaySeconds`). */
export interface SandboxEvent {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  data: { provider_reference: string; failure_code?: string };
  delaySeconds: number;
}

/**
 * A built-in provider that behaves like a real one, for development and tests:
 * - cards settle at once by token: `tok_success` succeeds; `tok_decline` and `tok_insufficient_funds`
 *   are declined; `tok_requires_confirmation` stays pending and is confirmed later by webhook;
 *   any other token is declined as `invalid_token`;
 * - mobile payments stay pending and are confirmed (or, for numbers ending in 0000, declined) later
 *   by webhook;
 * - the same idempotency key always answers the same outcome and reference.
 * Later confirmations are handed to `deliver`, which sends them to the webhook like the real thing.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';
  private readonly charges = new Map<string, ChargeOutcome>();

  constructor(
    private readonly deliver: (event: SandboxEvent) => Promise<void>,
    private readonly confirmDelaySeconds = 5,
  ) {}

  async charge(req: ChargeRequest): Promise<ChargeOutcome> {
    const known = this.charges.get(req.idempotencyKey);
    if (known) return known;
    const reference = `sbx_${createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 24)}`;
    const outcome = this.decide(req, reference);
    this.charges.set(req.idempotencyKey, outcome);
    if (outcome.status === 'pending') {
      const declined = req.method === 'mobile' && (req.phone ?? '').endsWith('0000');
      await this.deliver({
        id: `evt_${randomUUID()}`,
        type: declined ? 'payment.failed' : 'payment.succeeded',
        data: declined ? { provider_reference: reference, failure_code: 'mobile_declined' } : { provider_reference: reference },
        delaySeconds: this.confirmDelaySeconds,
      });
    }
    return outcome;
  }

  async refund(): Promise<void> {
    // The sandbox holds no money: a refund always succeeds.
  }

  private decide(req: ChargeRequest, reference: string): ChargeOutcome {
    if (req.method === 'mobile') return { status: 'pending', providerReference: reference };
    switch (req.cardToken) {
      case 'tok_success':
        return { status: 'succeeded', providerReference: reference };
      case 'tok_requires_confirmation':
        return { status: 'pending', providerReference: reference };
      case 'tok_decline':
        return { status: 'failed', providerReference: reference, failureCode: 'card_declined' };
      case 'tok_insufficient_funds':
        return { status: 'failed', providerReference: reference, failureCode: 'insufficient_funds' };
      default:
        return { status: 'failed', providerReference: reference, failureCode: 'invalid_token' };
    }
  }
}
