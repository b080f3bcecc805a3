import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import { toMinor } from '../../shared/money';
import { claimIdempotencyKey, type IdempotentRequest, rememberIdempotencyKey, requestHash } from '../orders/idempotency';
import { Order } from '../orders/order.entity';
import type { OrdersService } from '../orders/orders.service';
import { Payment, PaymentEvent } from './payment.entity';
import type { ChargeOutcome, PaymentProvider } from './provider';
import { verifyWebhook } from './webhook-signature';

type PaymentInitiate = components['schemas']['PaymentInitiate'];
type PaymentEventBody = components['schemas']['PaymentEvent'];

const PaymentErrors = {
  orderNotFound: () => DomainError.notFound('The order'),
  notPayable: (status: string) => new DomainError('conflict', 'ORDER_NOT_PAYABLE', `The order is ${status}; only orders waiting for payment can be paid.`),
  cardTokenRequired: () =>
    new DomainError('unprocessable', 'CARD_TOKEN_REQUIRED', 'A card payment needs a card_token.', { errors: [{ field: 'body.card_token', message: 'is required for card payments' }] }),
  phoneRequired: () =>
    new DomainError('unprocessable', 'PHONE_REQUIRED', 'A mobile payment needs a phone number.', { errors: [{ field: 'body.phone', message: 'is required for mobile payments' }] }),
  invalidSignature: () => new DomainError('invalid', 'INVALID_SIGNATURE', 'The webhook signature is missing, wrong or too old.'),
};

export interface PaymentSettings {
  webhookSecret: string;
  idempotencyTtlHours: number;
}

/**
 * Payments: one live payment per order, amounts from the order, provider calls outside
 * transactions, outcomes applied exactly once whether they come back from the call or the webhook.
 */
export class PaymentsService {
  constructor(
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly settings: PaymentSettings,
  ) {}

  /**
   * Starts paying the owner's order. While a payment is pending or after one succeeded, answers it
   * (`existing`) instead of charging again.
   */
  async initiate(em: EntityManager, owner: Principal, input: PaymentInitiate, idempotencyKey?: string): Promise<{ payment: Payment; existing: boolean }> {
    if (input.method === 'card' && !input.card_token) throw PaymentErrors.cardTokenRequired();
    if (input.method === 'mobile' && !input.phone) throw PaymentErrors.phoneRequired();
    const idem: IdempotentRequest | undefined = idempotencyKey
      ? { userId: owner.id, scope: 'payment', key: idempotencyKey, hash: requestHash(input) }
      : undefined;
    // 1. Record the attempt (or find the live one) in a short transaction.
    const started = await em.transactional(async (tx) => {
      if (idem) {
        const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
        if (previous !== null) return { payment: await tx.findOneOrFail(Payment, previous), existing: true };
      }
      const order = await tx.findOne(Order, { id: input.order, user: owner.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!order) throw PaymentErrors.orderNotFound();
      const live = await tx.findOne(Payment, { order: order.id, status: { $in: ['pending', 'succeeded'] } });
      if (live) return { payment: live, existing: true };
      if (order.status !== 'pending_payment') throw PaymentErrors.notPayable(order.status);
      const payment = new Payment(tx.getReference(Order, order.id, { wrapped: true }), input.method, order.total, order.currency, this.provider.name);
      tx.persist(payment);
      order.paymentStatus = 'pending';
      await tx.flush();
      if (idem) rememberIdempotencyKey(tx, idem, payment.id);
      await tx.flush();
      return { payment, existing: false };
    });
    if (started.existing) return started;
    // 2. Call the provider outside any transaction.
    let outcome: ChargeOutcome;
    try {
      outcome = await this.provider.charge({
        paymentId: started.payment.id,
        amount: toMinor(started.payment.amount),
        currency: started.payment.currency,
        method: input.method,
        cardToken: input.card_token,
        phone: input.phone,
        idempotencyKey: `payment-${started.payment.id}`,
      });
    } catch {
      outcome = { status: 'failed', providerReference: `error-${started.payment.id}`, failureCode: 'provider_unavailable' };
    }
    // 3. Apply the outcome.
    const payment = await this.apply(em, started.payment.id, outcome);
    return { payment, existing: false };
  }

  /** A provider event: verified, processed once, applied to its payment. */
  async handleWebhook(em: EntityManager, rawBody: Buffer | undefined, signature: string | undefined, event: PaymentEventBody): Promise<{ duplicate: boolean }> {
    if (!rawBody || !verifyWebhook(this.settings.webhookSecret, rawBody, signature)) throw PaymentErrors.invalidSignature();
    const inserted = await em.execute<{ id: string }[]>('insert into payment_events (id, type) values (?, ?) on conflict (id) do nothing returning id', [
      event.id,
      event.type,
    ]);
    if (inserted.length === 0) return { duplicate: true };
    const payment = await em.findOne(Payment, { providerReference: event.data.provider_reference });
    if (payment) {
      const outcome: ChargeOutcome =
        event.type === 'payment.succeeded'
          ? { status: 'succeeded', providerReference: event.data.provider_reference }
          : { status: 'failed', providerReference: event.data.provider_reference, failureCode: event.data.failure_code ?? 'declined' };
      await this.apply(em, payment.id, outcome);
    }
    return { duplicate: false };
  }

  /**
   * Applies an outcome to a payment that is still pending (later outcomes for a settled payment
   * change nothing). A success pays the order exactly once; if the order was cancelled meanwhile,
   * the money goes back.
   */
  private async apply(em: EntityManager, paymentId: number, outcome: ChargeOutcome): Promise<Payment> {
    let refund: { reference: string; amount: number } | undefined;
    const payment = await em.transactional(async (tx) => {
      const payment = await tx.findOneOrFail(Payment, paymentId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      payment.providerReference = outcome.providerReference;
      if (payment.status !== 'pending' || outcome.status === 'pending') return payment;
      const order = await tx.findOneOrFail(Order, payment.order.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (outcome.status === 'failed') {
        payment.status = 'failed';
        payment.failureCode = outcome.failureCode;
        if (order.status === 'pending_payment') order.paymentStatus = 'failed';
        return payment;
      }
      payment.succeededAt = new Date();
      if (order.status === 'pending_payment') {
        payment.status = 'succeeded';
        await this.orders.transition(tx, order, 'paid');
      } else {
        payment.status = 'refunded';
        refund = { reference: outcome.providerReference, amount: toMinor(payment.amount) };
      }
      return payment;
    });
    if (refund) await this.provider.refund(refund.reference, refund.amount);
    return payment;
  }

  /** The order's payment state and attempts, for its owner (admins: any order). */
  async status(em: EntityManager, viewer: Principal, orderId: number): Promise<{ order: Order; payments: Payment[] }> {
    const order = await this.orders.findVisible(em, viewer, orderId);
    if (!order) throw PaymentErrors.orderNotFound();
    const payments = await em.find(Payment, { order: orderId }, { orderBy: { id: 'desc' } });
    return { order, payments };
  }

  /** Refunds the succeeded payments of an order (returns, refunds) after its transaction commits. */
  async refundOrder(em: EntityManager, orderId: number): Promise<void> {
    const paid = await em.find(Payment, { order: orderId, status: 'succeeded' });
    for (const p of paid) {
      await this.provider.refund(p.providerReference ?? '', toMinor(p.amount));
      p.status = 'refunded';
    }
    await em.flush();
  }
}

