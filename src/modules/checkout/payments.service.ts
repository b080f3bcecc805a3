import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { failpoint } from '../../shared/failpoints';
import { toMinor } from '../../shared/money';
import type { Guest, Principal } from '../../shared/principal';
import { CheckoutErrors } from './checkout.errors';
import type { CheckoutRepository } from './checkout.repository';
import { claimIdempotencyKey, idempotent, rememberIdempotencyKey } from './idempotency';
import type { Order } from './order.entity';
import type { OrdersService } from './orders.service';
import { type ChargeOutcome, type PaymentProvider, type ReversalOutcome, withinTimeout } from './payment-provider';
import { chargeKey, Payment, type PaymentAttemptStatus } from './payment.entity';
import { verifyWebhook } from './webhook-signature';

export type PaymentInput = components['schemas']['PaymentInitiate'];
export type PaymentEventInput = components['schemas']['PaymentEvent'];

export interface PaymentSettings {
  webhookSecret: string;
  idempotencyTtlHours: number;
  /**
   * A provider call is abandoned after this long. A payment still pending this long (plus some
   * slack) after its last change has no request waiting on the provider for it any more, so its
   * outcome is asked of the provider (reconciliation).
   */
  providerTimeoutMs: number;
}

/** On top of the provider timeout before a payment is asked about: other servers' clocks, slow commits. */
const RECONCILE_SLACK_MS = 5_000;

/** What reconciling a payment found. */
export interface Reconciliation {
  paymentId: number;
  orderId: number;
  /** Whether the provider's answer was missing (the outcome was unknown) or only its confirmation. */
  wasAnswered: boolean;
  status: PaymentAttemptStatus;
  failureCode: string | null;
}

/** What a refund job did with one payment. */
export interface Reversal {
  paymentId: number;
  outcome: ReversalOutcome;
  status: PaymentAttemptStatus;
}

type Started = { kind: 'charge'; payment: Payment } | { kind: 'existing'; payment: Payment } | { kind: 'reconcile'; paymentId: number };

/**
 * Payments: one live payment per order, amounts from the order, provider calls outside
 * transactions, outcomes applied exactly once whether they come back from the call, the webhook or
 * reconciliation. A payment is committed before the provider is called and the charge is keyed by
 * it, so after a crash at any point the provider can be asked what became of it (`reconcile`); a
 * cancelled order's payments are voided or refunded by a job (`refundOrder`). The order itself
 * changes only through OrdersService.
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
   * (`existing`) instead of charging again; a pending payment past the provider timeout is first
   * reconciled with the provider, then answered (or, if it took nothing, a new one is charged).
   */
  async initiate(em: EntityManager, owner: Principal | Guest, input: PaymentInput, idempotencyKey?: string): Promise<{ payment: Payment; existing: boolean }> {
    if (input.method === 'card' && !input.card_token) throw CheckoutErrors.cardTokenRequired();
    if (input.method === 'mobile' && !input.phone) throw CheckoutErrors.phoneRequired();
    const idem = idempotent('tokenHash' in owner ? { cartId: owner.cartId } : owner.id, 'payment', idempotencyKey, input);
    for (let round = 0; ; round += 1) {
      // 1. Record the attempt (or find the live one) in a short transaction.
      const started = await em.transactional(async (tx): Promise<Started> => {
        // The first time round, an overdue payment is reconciled before it is answered; after that it is answered as it is.
        const answer = (payment: Payment): Started =>
          round === 0 && this.overdue(payment) ? { kind: 'reconcile', paymentId: payment.id } : { kind: 'existing', payment };
        if (idem) {
          const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
          const payment = previous === null ? null : await this.checkout.payment(tx, previous);
          if (payment) return answer(payment);
        }
        const order = await this.checkout.lockOwnOrder(tx, 'tokenHash' in owner ? owner : owner.id, input.order);
        if (!order) throw CheckoutErrors.orderNotFound();
        const live = await this.checkout.livePayment(tx, order.id);
        if (live) return answer(live);
        if (order.status !== 'pending_payment') throw CheckoutErrors.notPayable(order.status);
        const payment = new Payment(order.id, input.method, order.total, order.currency, this.provider.name);
        tx.persist(payment);
        this.orders.paymentStarted(order);
        await tx.flush();
        if (idem) rememberIdempotencyKey(tx, idem, payment.id);
        await tx.flush();
        return { kind: 'charge', payment };
      });
      if (started.kind === 'existing') return { payment: started.payment, existing: true };
      if (started.kind === 'reconcile') {
        // A failure to reach the provider leaves the payment as it is; the job tries again.
        await this.reconcile(em, started.paymentId).catch(() => undefined);
        continue;
      }
      const payment = started.payment;
      failpoint('payment.before-charge');
      // 2. Call the provider outside any transaction, keyed by the payment.
      let outcome: ChargeOutcome;
      try {
        outcome = await this.call(() =>
          this.provider.charge(em, {
            paymentId: payment.id,
            amount: toMinor(payment.amount),
            currency: payment.currency,
            method: input.method,
            cardToken: input.card_token,
            phone: input.phone,
            idempotencyKey: chargeKey(payment.id),
          }),
        );
      } catch {
        // No answer (network, timeout): the provider may or may not have charged. The payment stays
        // pending without the provider's answer until reconciliation asks the provider.
        return { payment, existing: false };
      }
      failpoint('payment.after-charge');
      // 3. Record the answer.
      return { payment: await this.record(em, payment.id, outcome), existing: false };
    }
  }

  /**
   * A provider event: verified, then recorded and applied to its payment in one transaction, so a
   * delivery that fails (or a process that dies) leaves nothing recorded and the provider's retry is
   * processed. An event for a reference we do not know yet (the charge's answer was never recorded)
   * is not recorded: reconciliation finds that payment by its key.
   */
  async handleWebhook(em: EntityManager, rawBody: Buffer | undefined, signature: string | undefined, event: PaymentEventInput): Promise<{ duplicate: boolean }> {
    if (!rawBody || !verifyWebhook(this.settings.webhookSecret, rawBody, signature)) throw CheckoutErrors.invalidSignature();
    return em.transactional(async (tx) => {
      const payment = await this.checkout.paymentByReference(tx, event.data.provider_reference, { lock: true });
      if (!payment) return { duplicate: false };
      if (!(await this.checkout.recordPaymentEvent(tx, event.id, event.type))) return { duplicate: true };
      failpoint('payment.webhook.after-record');
      const outcome: ChargeOutcome =
        event.type === 'payment.succeeded'
          ? { status: 'succeeded', providerReference: event.data.provider_reference }
          : { status: 'failed', providerReference: event.data.provider_reference, failureCode: event.data.failure_code ?? 'declined' };
      await this.applyLocked(tx, payment, outcome);
      return { duplicate: false };
    });
  }

  /**
   * Asks the provider what became of a pending payment and records it: the charge's outcome if the
   * provider has one; if it never received the charge, its key is closed (a charge still on its way
   * is then declined) and the payment failed (`not_processed`). Null if the payment is not pending.
   */
  async reconcile(em: EntityManager, paymentId: number): Promise<Reconciliation | null> {
    const before = await this.checkout.payment(em, paymentId, { refresh: true });
    if (!before || before.status !== 'pending') return null;
    const key = chargeKey(paymentId);
    const found = await this.call(() => this.provider.lookup(em, key));
    const payment = found ? await this.record(em, paymentId, found) : await this.recordReversal(em, paymentId, await this.call(() => this.provider.reverse(em, key)));
    return { paymentId, orderId: payment.order.id, wasAnswered: before.providerAnswered, status: payment.status, failureCode: payment.failureCode };
  }

  /**
   * Reconciles the payments pending for longer than the provider timeout (the scheduler runs this,
   * every minute): those whose answer was never recorded, and those whose confirmation never came.
   * One that cannot be reconciled now (the provider is down) is left for the next run; after three
   * such failures the run stops, leaving the rest for the next one too.
   */
  async reconcileDue(em: EntityManager, now = new Date(), limit = 100): Promise<{ reconciled: Reconciliation[]; failed: { paymentId: number; error: unknown }[] }> {
    const due = await this.checkout.pendingSince(em, this.dueBefore(now), limit);
    const reconciled: Reconciliation[] = [];
    const failed: { paymentId: number; error: unknown }[] = [];
    for (const id of due) {
      try {
        const result = await this.reconcile(em.fork(), id);
        if (result) reconciled.push(result);
      } catch (error) {
        failed.push({ paymentId: id, error });
        if (failed.length >= 3) break;
      }
    }
    return { reconciled, failed };
  }

  /**
   * Gives back whatever the payments of a cancelled or refunded order reached (the refund job runs
   * this): its live (pending or succeeded) payment, at most one, is voided or refunded at the
   * provider, keyed by its charge, so a retried job never refunds twice; the payment changes only
   * once the provider did it. Throws (the job is retried) when the provider cannot be reached.
   */
  async refundOrder(em: EntityManager, orderId: number): Promise<Reversal[]> {
    const order = await this.checkout.order(em, orderId, { refresh: true });
    if (!order || (order.status !== 'cancelled' && order.status !== 'refunded')) return [];
    const live = await this.checkout.livePayment(em, orderId);
    if (!live) return [];
    const outcome = await this.call(() => this.provider.reverse(em, chargeKey(live.id)));
    failpoint('payment.after-reverse');
    const payment = await this.recordReversal(em, live.id, outcome);
    return [{ paymentId: live.id, outcome, status: payment.status }];
  }

  /** The order's payment state and attempts, for its owner (admins: any order). */
  async status(em: EntityManager, viewer: Principal | Guest, orderId: number): Promise<{ order: Order; payments: Payment[] }> {
    const order = await this.orders.findVisible(em, viewer, orderId);
    if (!order) throw CheckoutErrors.orderNotFound();
    return { order, payments: await this.checkout.paymentsOf(em, orderId) };
  }

  /** Whether a pending payment has been waiting longer than any provider call could still take. */
  private overdue(payment: Payment): boolean {
    return payment.status === 'pending' && payment.updatedAt < this.dueBefore(new Date());
  }

  /** A pending payment last changed before this is due for reconciliation: no provider call can still be running for it. */
  private dueBefore(now: Date): Date {
    return new Date(now.getTime() - this.settings.providerTimeoutMs - RECONCILE_SLACK_MS);
  }

  /** A provider call, abandoned (as a failure: outcome unknown) after the provider timeout. */
  private call<T>(run: () => Promise<T>): Promise<T> {
    return withinTimeout(run, this.settings.providerTimeoutMs);
  }

  /** Records the provider's answer for a payment in its own transaction. */
  private async record(em: EntityManager, paymentId: number, outcome: ChargeOutcome): Promise<Payment> {
    return em.transactional(async (tx) => {
      const payment = await this.checkout.payment(tx, paymentId, { lock: true });
      if (!payment) throw CheckoutErrors.orderNotFound();
      await this.applyLocked(tx, payment, outcome);
      return payment;
    });
  }

  /**
   * Applies an outcome to a (locked) payment that is still pending; later outcomes for a settled
   * payment change nothing. A success pays the order exactly once; if the order stopped waiting for
   * payment meanwhile (cancelled, expired), the payment is recorded as succeeded and its refund is
   * due (a job, enqueued in this transaction).
   */
  private async applyLocked(tx: EntityManager, payment: Payment, outcome: ChargeOutcome): Promise<void> {
    if (payment.status !== 'pending') return;
    payment.providerAnswered = true;
    payment.providerReference = outcome.providerReference;
    if (outcome.status === 'pending') return;
    const order = await this.checkout.order(tx, payment.order.id, { lock: true });
    if (!order) throw CheckoutErrors.orderNotFound();
    if (outcome.status === 'failed') {
      payment.status = 'failed';
      payment.failureCode = outcome.failureCode;
      this.orders.paymentFailed(order);
      return;
    }
    payment.status = 'succeeded';
    payment.succeededAt = new Date();
    if (order.status === 'pending_payment') await this.orders.transition(tx, order, 'paid');
    else await this.orders.refundDue(tx, order);
  }

  /**
   * Records what the provider did when asked to give a payment back. A payment we knew as succeeded
   * is refunded either way (a charge voided before it settled took nothing back either); a pending
   * one is refunded (the charge had succeeded), failed as `voided`, or failed as `not_processed`
   * (the provider never had it). A succeeded payment the provider has nothing of is an error.
   */
  private async recordReversal(em: EntityManager, paymentId: number, outcome: ReversalOutcome): Promise<Payment> {
    return em.transactional(async (tx) => {
      const payment = await this.checkout.payment(tx, paymentId, { lock: true });
      if (!payment) throw CheckoutErrors.orderNotFound();
      if (payment.status !== 'pending' && payment.status !== 'succeeded') return payment;
      if (payment.status === 'succeeded' && outcome === 'nothing') {
        throw new Error(`payment ${paymentId} succeeded, but the provider has no charge under ${chargeKey(paymentId)} to refund`);
      }
      const refunded = payment.status === 'succeeded' || outcome === 'refunded';
      payment.providerAnswered = true;
      if (refunded) {
        payment.status = 'refunded';
        payment.succeededAt ??= new Date();
      } else {
        payment.status = 'failed';
        payment.failureCode = outcome === 'voided' ? 'voided' : 'not_processed';
      }
      const order = await this.checkout.order(tx, payment.order.id, { lock: true });
      if (!order) throw CheckoutErrors.orderNotFound();
      this.orders.paymentReversed(order, refunded);
      if (refunded) {
        await tx.flush();
        await this.orders.refunded(tx, order, payment.amount);
      }
      return payment;
    });
  }
}
