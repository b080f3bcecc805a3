import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { failpoint } from '../../shared/failpoints';
import { fromMinor, toMinor } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import type { InventoryService } from '../catalog';
import { CheckoutErrors } from './checkout.errors';
import type { CheckoutRepository } from './checkout.repository';
import { claimIdempotencyKey, idempotent, rememberIdempotencyKey } from './idempotency';
import type { Order, OrderItem } from './order.entity';
import type { OrdersService } from './orders.service';
import { type PaymentProvider, type RefundOutcome, withinTimeout } from './payment-provider';
import { chargeKey } from './payment.entity';
import { OrderReturn, Refund, refundKey, ReturnItem } from './return.entity';
import { RETURNS_SCOPE, type ReturnsRepository } from './returns.repository';
import { assertReturnTransition, type ReturnStatus } from './states';

export type ReturnInput = components['schemas']['ReturnCreate'];

export interface ReturnSettings {
  /** A delivered order can be returned for this many days after its delivery. */
  returnWindowDays: number;
  idempotencyTtlHours: number;
  /** A provider call is abandoned after this long (its outcome is then unknown; the job retries it). */
  providerTimeoutMs: number;
}

/** A return with its lines and its newest refund. */
export interface ReturnDetail {
  orderReturn: OrderReturn;
  items: ReturnItem[];
  refund: Refund | null;
}

type Change = (tx: EntityManager, r: OrderReturn, order: Order) => Promise<void>;

/** What a refund job did. */
export interface RefundResult {
  refundId: number;
  orderId: number;
  status: Refund['status'];
}

/**
 * What the buyer paid for `units` units of an order line, in minor units: the line's proportional
 * share of what it cost (`total` where lines carry it, else `lineTotal`), in exact integer
 * arithmetic. `before` units of the line were returned earlier: each unit's share is the cumulative
 * difference, so returning every unit of a line, in any number of returns, gives exactly the line's
 * amount.
 */
export function returnedValue(item: { quantity: number; lineTotal: string; total?: string }, units: number, before = 0): number {
  const line = BigInt(toMinor(item.total ?? item.lineTotal));
  const quantity = BigInt(item.quantity);
  const share = (n: number) => (line * BigInt(n)) / quantity;
  return Number(share(before + units) - share(before));
}

/**
 * Returns of delivered orders and their refunds. A buyer asks (within RETURN_WINDOW_DAYS of the
 * delivery, never for more units than they bought minus those in other open or completed returns:
 * the order row is locked while counting); an admin approves or rejects, receives (the units are
 * restocked through the catalog's ledger, reason `return`) and refunds. A refund is recorded with
 * its job in the transaction that moves the return (never more than the order's payment took minus
 * its other refunds, counted under the order's lock); the job asks the provider, keyed by the
 * refund, so a retry or a crash never refunds twice. The order's row changes through OrdersService.
 */
export class ReturnsService {
  constructor(
    private readonly checkout: CheckoutRepository,
    private readonly returns: ReturnsRepository,
    private readonly orders: OrdersService,
    private readonly inventory: InventoryService,
    private readonly provider: PaymentProvider,
    private readonly settings: ReturnSettings,
  ) {}

  /** The buyer asks to return some units of some lines of their delivered order. */
  async request(em: EntityManager, buyer: Principal, orderId: number, input: ReturnInput): Promise<ReturnDetail> {
    const seen = new Set<number>();
    input.items.forEach((line, index) => {
      if (seen.has(line.order_item)) throw CheckoutErrors.duplicateReturnLine(index);
      seen.add(line.order_item);
    });
    const id = await em.transactional(async (tx) => {
      // The order's lock serialises the requests of one order: two cannot claim the same units.
      const order = await this.checkout.lockOwnOrder(tx, buyer.id, orderId);
      if (!order) throw CheckoutErrors.orderNotFound();
      if (order.status !== 'delivered') throw CheckoutErrors.orderNotDelivered(order.status);
      const deliveredAt = order.deliveredAt ?? order.updatedAt;
      if (Date.now() > deliveredAt.getTime() + this.settings.returnWindowDays * 86_400_000) throw CheckoutErrors.returnWindowClosed(this.settings.returnWindowDays);
      const lines = new Map((await this.checkout.items(tx, order.id)).map((i) => [i.id, i]));
      const unknown = input.items.map((l) => l.order_item).filter((i) => !lines.has(i));
      if (unknown.length) throw CheckoutErrors.unknownOrderItem(unknown);
      const claimed = await this.returns.claimedUnits(tx, order.id);
      const priced = input.items.map((l) => {
        const item = lines.get(l.order_item) as OrderItem;
        const before = claimed.get(item.id) ?? 0;
        if (l.quantity > item.quantity - before) throw CheckoutErrors.returnQuantityExceeded(item.id, Math.max(0, item.quantity - before));
        return { item, quantity: l.quantity, amount: returnedValue(item, l.quantity, before) };
      });
      const orderReturn = new OrderReturn(order.id, buyer.id, input.reason, fromMinor(priced.reduce((sum, p) => sum + p.amount, 0)));
      tx.persist(orderReturn);
      await tx.flush();
      for (const p of priced) tx.persist(new ReturnItem(orderReturn.id, p.item.id, p.quantity, fromMinor(p.amount)));
      await tx.flush();
      return orderReturn.id;
    });
    return this.detail(em, id);
  }

  /** A return its buyer or an admin may see; anyone else's answers 404. */
  async get(em: EntityManager, viewer: Principal, id: number): Promise<ReturnDetail> {
    const found = await this.returns.visibleReturn(em, viewer, id);
    if (!found) throw CheckoutErrors.returnNotFound();
    return this.detail(em, found);
  }

  /** An order's returns, newest first, for its buyer or an admin. */
  async listOfOrder(em: EntityManager, viewer: Principal, orderId: number, pick: PagePicker): Promise<{ listing: Listing<OrderReturn>; details: Map<number, ReturnDetail> }> {
    pick([RETURNS_SCOPE]); // a bad page request is a 400 whatever the order
    const order = await this.orders.findVisible(em, viewer, orderId);
    if (!order) throw CheckoutErrors.orderNotFound();
    return this.listed(em, await this.returns.list(em, { orderId }, pick));
  }

  /** Every return (admins), newest first, optionally in one status. */
  async list(em: EntityManager, status: ReturnStatus | undefined, pick: PagePicker): Promise<{ listing: Listing<OrderReturn>; details: Map<number, ReturnDetail> }> {
    return this.listed(em, await this.returns.list(em, { status }, pick));
  }

  approve(em: EntityManager, id: number): Promise<ReturnDetail> {
    return this.move(em, id, 'approved', async (_tx, r) => {
      r.approvedAt = new Date();
    });
  }

  reject(em: EntityManager, id: number): Promise<ReturnDetail> {
    return this.move(em, id, 'rejected', async (_tx, r) => {
      r.rejectedAt = new Date();
    });
  }

  /** The goods came back: their units are restocked through the catalog's ledger (reason `return`). */
  receive(em: EntityManager, id: number): Promise<ReturnDetail> {
    return this.move(em, id, 'received', async (tx, r) => {
      r.receivedAt = new Date();
      const items = await this.returns.itemsOf(tx, [r.id]);
      const lines = items.map((i) => ({ variantId: i.orderItem.getEntity().variant.id, productId: i.orderItem.getEntity().product.id, quantity: i.quantity }));
      await this.inventory.restock(tx, 'return', r.order.id, lines);
    });
  }

  /**
   * Refunds a received return: `amount` (default: the value of its units) is recorded as a refund of
   * the order's payment, with its job, never more than the payment took minus the order's other
   * refunds (422 REFUND_EXCEEDS_PAID). With an Idempotency-Key, a retry answers the same return.
   */
  async refund(em: EntityManager, actor: Principal, id: number, amount: string | undefined, idempotencyKey?: string): Promise<ReturnDetail> {
    if (amount !== undefined && toMinor(amount) === 0) throw CheckoutErrors.refundAmountZero();
    const idem = idempotent(actor.id, 'refund', idempotencyKey, { return: id, amount: amount ?? null });
    const returnId = await em.transactional(async (tx) => {
      if (idem) {
        const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
        if (previous !== null) return previous;
      }
      await this.moveIn(tx, id, 'refunded', async (inner, r, order) => {
        const minor = amount === undefined ? toMinor(r.amount) : toMinor(amount);
        const payment = await this.returns.succeededPayment(inner, order.id);
        const paid = payment ? toMinor(payment.amount) : 0;
        const refundable = paid - (await this.returns.refundedMinor(inner, order.id));
        if (!payment || minor > refundable) throw CheckoutErrors.refundExceedsPaid(fromMinor(Math.max(0, refundable)));
        if (minor === 0) throw CheckoutErrors.refundAmountZero();
        const refund = new Refund(order.id, payment.id, r.id, fromMinor(minor), order.currency);
        inner.persist(refund);
        r.refundedAt = new Date();
        await inner.flush();
        await this.orders.refundRequested(inner, order, refund.id, minor, paid);
      });
      if (idem) rememberIdempotencyKey(tx, idem, id);
      await tx.flush();
      return id;
    });
    return this.detail(em, returnId);
  }

  /**
   * Makes a recorded refund at the provider (the refund job runs this), keyed by the refund, so a
   * retried job never refunds twice, then records the answer: succeeded (the payment is `refunded`
   * once its refunds reach what it took), or refused (the amount no longer counts as given back, and
   * the return is received again, to be refunded anew). Null if the refund is not waiting for the
   * provider any more. Throws (the job is retried) when the provider cannot be reached.
   */
  async processRefund(em: EntityManager, refundId: number): Promise<RefundResult | null> {
    const refund = await this.returns.refund(em, refundId, { refresh: true });
    if (!refund || refund.status !== 'requested') return null;
    failpoint('refund.before-provider');
    const outcome = await this.call(() =>
      this.provider.refund(em, { chargeKey: chargeKey(refund.payment.id), refundKey: refundKey(refund.id), amount: toMinor(refund.amount), currency: refund.currency }),
    );
    failpoint('refund.after-provider');
    return em.transactional(async (tx) => {
      const order = await this.checkout.order(tx, refund.order.id, { lock: true });
      const r = await this.returns.refund(tx, refundId, { lock: true, refresh: true });
      if (!order || !r) throw CheckoutErrors.orderNotFound();
      if (r.status === 'requested') await this.recordRefund(tx, order, r, outcome);
      return { refundId, orderId: order.id, status: r.status };
    });
  }

  private async recordRefund(tx: EntityManager, order: Order, refund: Refund, outcome: RefundOutcome): Promise<void> {
    if (outcome.status === 'succeeded') {
      refund.status = 'succeeded';
      refund.providerReference = outcome.providerReference;
      refund.succeededAt = new Date();
      const payment = await this.returns.payment(tx, refund.payment.id, { lock: true });
      if (payment?.status === 'succeeded' && (await this.returns.refundedMinor(tx, order.id, 'succeeded', payment.id)) + toMinor(refund.amount) >= toMinor(payment.amount)) {
        payment.status = 'refunded';
      }
      await tx.flush();
      await this.orders.refunded(tx, order, refund.amount);
    } else {
      refund.status = 'failed';
      refund.failureCode = outcome.failureCode;
      this.orders.refundRefused(order, toMinor(refund.amount));
      const r = refund.orderReturn && (await this.returns.orderReturn(tx, refund.orderReturn.id, { lock: true }));
      if (r && r.status === 'refunded') {
        assertReturnTransition(r.status, 'received');
        r.status = 'received';
        r.refundedAt = null;
      }
    }
    await tx.flush();
  }

  /** Moves a return (admins) in a transaction of its own; answers it as it is then. */
  private async move(em: EntityManager, id: number, to: ReturnStatus, change: Change): Promise<ReturnDetail> {
    await em.transactional((tx) => this.moveIn(tx, id, to, change));
    return this.detail(em, id);
  }

  /**
   * Inside the caller's transaction: locks the return's order, then the return (the order first, as
   * a return request does), checks the transition, and lets `change` do its part.
   */
  private async moveIn(tx: EntityManager, id: number, to: ReturnStatus, change: Change): Promise<void> {
    const found = await this.returns.orderReturn(tx, id);
    if (!found) throw CheckoutErrors.returnNotFound();
    const order = await this.checkout.order(tx, found.order.id, { lock: true });
    const r = await this.returns.orderReturn(tx, id, { lock: true, refresh: true });
    if (!order || !r) throw CheckoutErrors.returnNotFound();
    assertReturnTransition(r.status, to);
    r.status = to;
    await change(tx, r, order);
    await tx.flush();
  }

  private async listed(em: EntityManager, listing: Listing<OrderReturn>): Promise<{ listing: Listing<OrderReturn>; details: Map<number, ReturnDetail> }> {
    const found = listing.slice.items;
    const ids = found.map((r) => r.id);
    const [items, refunds] = [await this.returns.itemsOf(em, ids), await this.returns.latestRefunds(em, ids)];
    const details = new Map(found.map((r) => [r.id, { orderReturn: r, items: items.filter((i) => i.orderReturn.id === r.id), refund: refunds.get(r.id) ?? null }]));
    return { listing, details };
  }

  /** The return with its lines and newest refund; given an id (after a transaction), read afresh. */
  private async detail(em: EntityManager, ref: OrderReturn | number): Promise<ReturnDetail> {
    const orderReturn = typeof ref === 'number' ? await this.returns.orderReturn(em, ref, { refresh: true }) : ref;
    if (!orderReturn) throw CheckoutErrors.returnNotFound();
    const [items, refunds] = [await this.returns.itemsOf(em, [orderReturn.id]), await this.returns.latestRefunds(em, [orderReturn.id])];
    return { orderReturn, items, refund: refunds.get(orderReturn.id) ?? null };
  }

  /** A provider call, abandoned (as a failure: outcome unknown) after the provider timeout. */
  private call<T>(run: () => Promise<T>): Promise<T> {
    return withinTimeout(run, this.settings.providerTimeoutMs);
  }
}
