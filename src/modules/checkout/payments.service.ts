import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { toMinor } from '../../shared/money';
import type { Principal } from '../../shared/principal';
import { CheckoutErrors } from './checkout.errors';
import type { CheckoutRepository } from './checkout.repository';
import { claimIdempotencyKey, idempotent, rememberIdempotencyKey } from './idempotency';
import type { Order } from './order.entity';
import type { OrdersService } from './orders.service';
import type { ChargeOutcome, PaymentProvider } from './payment-provider';
import { Payment } from './payment.entity';
import { verifyWebhook } from './webhook-signature';

export type PaymentInput = components['schemas']['PaymentInitiate'];
export type PaymentEventInput = components['schemas']['PaymentEvent'];

export interface PaymentSettings {
  webhookSecret: string;
  idempotencyTtlHours: number;
}

/**
 * Payments: one live payment per order, amounts from the order, provider calls outside
 * transactions, outcomes applied exactly once whether they come back from the call or the webhook.
 * The order itself changes only through OrdersService.
 */
export class PaymentsService {
  constructor(
    private readonly checkout: CheckoutRepository,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly settings: PaymentSettings,
  ) {}

  /**
   * Starts paying the owner's order. While a payment is pending or after one succeeded, answers it
   * (`existing`) instead of charging again.
   */
  async initiate(em: EntityManager, owner: Principal, input: PaymentInput, idempotencyKey?: string): Promise<{ payment: Payment; existing: boolean }> {
    if (input.method === 'card' && !input.card_token) throw CheckoutErrors.cardTokenRequired();
    if (input.method === 'mobile' && !input.phone) throw CheckoutErrors.phoneRequired();
    const idem = idempotent(owner.id, 'payment', idempotencyKey, input);
    // 1. Record the attempt (or find the live one) in a short transaction.
    const started = await em.transactional(async (tx) => {
      if (idem) {
        const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
        const payment = previous === null ? null : await this.checkout.payment(tx, previous);
        if (payment) return { payment, existing: true };
      }
      const order = await this.checkout.lockOwnOrder(tx, owner.id, input.order);
      if (!order) throw CheckoutErrors.orderNotFound();
      const live = await this.checkout.livePayment(tx, order.id);
      if (live) return { payment: live, existing: true };
      if (order.status !== 'pending_payment') throw CheckoutErrors.notPayable(order.status);
      const payment = new Payment(order.id, input.method, order.total, order.currency, this.provider.name);
      tx.persist(payment);
      this.orders.paymentStarted(order);
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
    return { payment: await this.apply(em, started.payment.id, outcome), existing: false };
  }

  /** A provider event: verified, processed once, applied to its payment. */
  async handleWebhook(em: EntityManager, rawBody: Buffer | undefined, signature: string | undefined, event: PaymentEventInput): Promise<{ duplicate: boolean }> {
    if (!rawBody || !verifyWebhook(this.settings.webhookSecret, rawBody, signature)) throw CheckoutErrors.invalidSignature();
    if (!(await this.checkout.recordPaymentEvent(em, event.id, event.type))) return { duplicate: true };
    const payment = await this.checkout.paymentByReference(em, event.data.provider_reference);
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
      const payment = await this.checkout.payment(tx, paymentId, { lock: true });
      if (!payment) throw CheckoutErrors.orderNotFound();
      payment.providerReference = outcome.providerReference;
      if (payment.status !== 'pending' || outcome.status === 'pending') return payment;
      const order = await this.checkout.order(tx, payment.order.id, { lock: true });
      if (!order) throw CheckoutErrors.orderNotFound();
      if (outcome.status === 'failed') {
        payment.status = 'failed';
        payment.failureCode = outcome.failureCode;
        this.orders.paymentFailed(order);
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
    if (!order) throw CheckoutErrors.orderNotFound();
    return { order, payments: await this.checkout.paymentsOf(em, orderId) };
  }

  /** Refunds the succeeded payments of an order (returns, refunds) after its transaction commits. */
  async refundOrder(em: EntityManager, orderId: number): Promise<void> {
    for (const p of await this.checkout.succeededPaymentsOf(em, orderId)) {
      await this.provider.refund(p.providerReference ?? '', toMinor(p.amount));
      p.status = 'refunded';
    }
    await em.flush();
  }
}
