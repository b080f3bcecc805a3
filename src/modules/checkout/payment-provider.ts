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
  /** The same key always answers the same charge: a retried call never charges twice. */
  idempotencyKey: string;
}

export type ChargeOutcome =
  | { status: 'succeeded'; providerReference: string }
  | { status: 'failed'; providerReference: string; failureCode: string }
  /** Waiting for the customer or the network; the provider reports the outcome through the webhook. */
  | { status: 'pending'; providerReference: string };

/** A payment provider. Calls happen outside database transactions. */
export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  refund(providerReference: string, amount: number): Promise<void>;
}
