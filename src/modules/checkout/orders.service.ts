import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { allowLockWait } from '../../db/timeouts';
import { fromMinor, toMinor } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Guest, Principal } from '../../shared/principal';
import type { ShippingAddress } from '../addresses';
import type { Allowance, CartOwner, CartService } from '../cart';
import { rateFromThousandths } from '../taxes';
import type { InventoryService } from '../catalog';
import { type DiscountsService, priceLines } from '../discounts';
import { CheckoutErrors } from './checkout.errors';
import { type CheckoutPublisher, orderEvent } from './checkout.events';
import type { CheckoutRepository, OrderViewer } from './checkout.repository';
import { claimIdempotencyKey, idempotent, rememberIdempotencyKey } from './idempotency';
import { Order, OrderItem } from './order.entity';
import type { Shipment } from './shipment.entity';
import { assertPaymentTransition, assertTransition, type OrderStatus } from './states';

export type OrderInput = components['schemas']['OrderCreate'];
export type GuestOrderInput = components['schemas']['GuestOrderCreate'];

/** Who checks out: an account (its cart, its address book), or a guest (its cart token's cart, an address written out, an email). */
type Buyer = { user: Principal } | { guest: Guest; email: string };

export interface OrderListInput {
  /** Admins: this buyer's orders (others may only name themselves). */
  user?: number;
  status?: OrderStatus;
}

export interface OrderDetail {
  order: Order;
  items: OrderItem[];
  shipment: Shipment | null;
}

export interface OrderSettings {
  currency: string;
  paymentWindowMinutes: number;
  idempotencyTtlHours: number;
  /** lock_timeout while placing an order: it queues behind other checkouts of the same stock (0: the session's). */
  lockTimeoutMs?: number;
}

/** Where checkout finds the buyer's shipping address (the address book answers). */
export interface AddressBook {
  shippingAddress(em: EntityManager, owner: Principal, id: number): Promise<ShippingAddress | null>;
}

/** Whether an account may place orders (the accounts context decides: REQUIRE_VERIFIED_EMAIL); throws the refusal. */
export interface BuyerGate {
  assertMayOrder(em: EntityManager, userId: number): Promise<void>;
  /** The account's email if it is verified; throws the refusal (EMAIL_NOT_VERIFIED) otherwise. */
  verifiedEmail(em: EntityManager, userId: number): Promise<string>;
}

const noLimit: Allowance = { blockedFor: async () => 0, fail: async () => 0 };

/**
 * Checkout and the order lifecycle. Every change to an order's row, its status and its payment
 * status alike, goes through this service (`transition`, `paymentStarted`, `paymentFailed`,
 * `paymentReversed`).
 */
export class OrdersService {
  constructor(
    private readonly checkout: CheckoutRepository,
    private readonly cart: CartService,
    private readonly discounts: DiscountsService,
    private readonly addresses: AddressBook,
    private readonly inventory: InventoryService,
    private readonly events: CheckoutPublisher,
    private readonly settings: OrderSettings,
    private readonly buyers: BuyerGate,
    /** Guest orders placed per client address (GUEST_ORDERS_PER_HOUR). */
    private readonly guestOrders: Allowance = noLimit,
    /**
     * Failed guest-order look-ups: per client address (LOOKUP_MAX_FAILURES per LOOKUP_WINDOW_SECONDS),
     * and per order from every address together (five times as many: a guess spread over many
     * addresses is stopped, while one address cannot lock a guest out of their own order).
     */
    private readonly lookups: { perAddress: Allowance; perOrder: Allowance } = { perAddress: noLimit, perOrder: noLimit },
  ) {}

  /**
   * Places an order from the owner's cart in one transaction: re-price, take the stock (never below
   * zero), snapshot the address, apply and redeem the coupon, record the order and empty the cart.
   * With an Idempotency-Key, a retry answers the order placed before. The buyer must first be
   * allowed to order (REQUIRE_VERIFIED_EMAIL), whichever API places it.
   */
  async place(em: EntityManager, owner: Principal, input: OrderInput, idempotencyKey?: string): Promise<OrderDetail> {
    await this.buyers.assertMayOrder(em, owner.id);
    return this.checkoutCart(em, { user: owner }, input, idempotencyKey);
  }

  /**
   * A guest's checkout of the cart its token names: the same transaction as `place`, with the
   * address written out and the guest's email on the order, which carries the token's hash (the
   * token reads, cancels and pays it). Throttled per client address (GUEST_ORDERS_PER_HOUR); a code
   * limited per customer is refused (COUPON_NEEDS_ACCOUNT). No account, so no verified-email gate.
   */
  async placeGuest(em: EntityManager, guest: Guest, input: GuestOrderInput, clientAddress: string, idempotencyKey?: string): Promise<OrderDetail> {
    const wait = await this.guestOrders.blockedFor(clientAddress);
    if (wait > 0) throw CheckoutErrors.guestThrottled(wait);
    const detail = await this.checkoutCart(em, { guest, email: input.email }, input, idempotencyKey);
    await this.guestOrders.fail(clientAddress);
    return detail;
  }

  /** The one checkout transaction, for accounts and guests alike. */
  private async checkoutCart(em: EntityManager, buyer: Buyer, input: OrderInput | GuestOrderInput, idempotencyKey?: string): Promise<OrderDetail> {
    const userId = 'user' in buyer ? buyer.user.id : null;
    const cartOwner: CartOwner = 'user' in buyer ? { userId: buyer.user.id } : { cartId: buyer.guest.cartId };
    const idem = idempotent('user' in buyer ? buyer.user.id : { cartId: buyer.guest.cartId }, 'order', idempotencyKey, input);
    const orderId = await em.transactional(async (tx) => {
      await allowLockWait(tx, this.settings.lockTimeoutMs ?? 0);
      if (idem) {
        const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
        if (previous !== null) return previous;
      }
      // The cart lock serialises checkouts of one cart: a double submit finds it empty.
      const { id: cartId, couponCode } = await this.cart.lockCart(tx, cartOwner);
      const lines = await this.cart.checkoutLines(tx, cartId);
      if (lines.length === 0) throw CheckoutErrors.cartEmpty();
      const unavailable = lines.filter((l) => !l.sellable).map((l) => l.id);
      if (unavailable.length) throw CheckoutErrors.cartHasUnavailableItems(unavailable);
      const address = await this.shippingAddress(tx, buyer, input);

      const { lines: priced } = priceLines(lines);
      const code = input.coupon ?? couponCode;
      const applied = code ? await this.discounts.evaluate(tx, code, { userId, lines: priced, lock: true }) : null;
      const destination = { addressId: address.id, country: address.country, region: address.region, method: input.shipping_method ?? ('cheapest' as const) };
      const quote = await this.cart.quote(tx, lines, applied, destination);

      const order = new Order(userId, this.settings.currency, fromMinor(quote.subtotal), fromMinor(quote.total));
      if ('guest' in buyer) {
        order.guestEmail = buyer.email;
        order.guestTokenHash = buyer.guest.tokenHash;
      }
      if (applied) order.useDiscount(applied.discount.id, applied.discount.code, fromMinor(quote.discount));
      order.charge(quote);
      order.shipTo(address);
      order.expiresAt = new Date(Date.now() + this.settings.paymentWindowMinutes * 60_000);
      tx.persist(order);
      await tx.flush();

      await this.inventory.sell(tx, order.id, lines);
      for (const [i, l] of priced.entries()) {
        const share = quote.lines[i]!;
        const item = new OrderItem(order.id, l.variantId, l.productId, {
          productName: l.productName,
          sku: l.sku,
          unitPrice: l.price,
          quantity: l.quantity,
          lineTotal: fromMinor(l.lineTotal),
          total: fromMinor(share.total),
        });
        item.variantName = l.variantName;
        item.taxed(share.discount, rateFromThousandths(share.taxRate ?? 0), share.tax ?? 0);
        tx.persist(item);
      }
      if (applied) await this.discounts.redeem(tx, applied, userId, order.id, order.discount);
      await this.cart.empty(tx, cartId);
      if (idem) rememberIdempotencyKey(tx, idem, order.id);
      await tx.flush();
      await this.events.publish(tx, 'order.placed', orderEvent(order));
      return order.id;
    });
    return this.detail(em, orderId);
  }

  /** Where the order goes: an entry of the account's address book, or the address a guest wrote out. */
  private async shippingAddress(em: EntityManager, buyer: Buyer, input: OrderInput | GuestOrderInput): Promise<Omit<ShippingAddress, 'id'> & { id: number | null }> {
    if ('user' in buyer) {
      const id = (input as OrderInput).shipping_address;
      const address = await this.addresses.shippingAddress(em, buyer.user, id);
      if (!address) throw CheckoutErrors.unknownAddress(id);
      return address;
    }
    const a = (input as GuestOrderInput).shipping_address;
    return {
      id: null,
      recipientName: a.recipient_name,
      phone: a.phone ?? null,
      line1: a.line1,
      line2: a.line2 ?? '',
      city: a.city,
      region: a.region ?? '',
      postalCode: a.postal_code,
      country: a.country,
    };
  }

  /**
   * A guest's order by its id and email (case-insensitive); anything else is the same 404. Failed
   * look-ups are counted per client address and per order: past their allowance in the window,
   * 429 LOOKUP_THROTTLED, whatever is asked (the right answer too).
   */
  async lookup(em: EntityManager, id: number, email: string, clientAddress: string): Promise<OrderDetail> {
    const { perAddress, perOrder } = this.lookups;
    const wait = Math.max(await perAddress.blockedFor(clientAddress), await perOrder.blockedFor(String(id)));
    if (wait > 0) throw CheckoutErrors.lookupThrottled(wait);
    const order = await this.checkout.guestOrder(em, id, email);
    if (!order) {
      await perAddress.fail(clientAddress);
      await perOrder.fail(String(id));
      throw CheckoutErrors.orderNotFound();
    }
    return this.detail(em, order);
  }

  /**
   * The caller's claim of the guest orders placed with their email: only a verified email may
   * claim (403 EMAIL_NOT_VERIFIED). How many became theirs.
   */
  async claimGuestOrders(em: EntityManager, caller: Principal): Promise<number> {
    const email = await this.buyers.verifiedEmail(em, caller.id);
    return this.claim(em, caller.id, email);
  }

  /**
   * The guest orders placed with `email` (case-insensitive) become the account's, in `em`'s
   * transaction (the accounts context calls this when an email is verified): their cart token no
   * longer reads them. How many.
   */
  claim(em: EntityManager, userId: number, email: string): Promise<number> {
    return this.checkout.claimGuestOrders(em, userId, email);
  }

  /** The owner's order (admins: any); anyone else's answers 404. */
  async get(em: EntityManager, viewer: OrderViewer, id: number): Promise<OrderDetail> {
    const order = await this.checkout.visibleOrder(em, viewer, id);
    if (!order) throw CheckoutErrors.orderNotFound();
    return this.detail(em, order);
  }

  /** The order if the viewer may see it (its buyer, or an admin), else null. `lock`: for update. */
  findVisible(em: EntityManager, viewer: OrderViewer, id: number, options: { lock?: boolean } = {}): Promise<Order | null> {
    return this.checkout.visibleOrder(em, viewer, id, options);
  }

  /** The viewer's orders, newest first (admins: anyone's, or one buyer's), with their unit counts. */
  list(em: EntityManager, viewer: Principal, input: OrderListInput, pick: PagePicker): Promise<{ orders: Listing<Order>; units: Map<number, number> }> {
    if (viewer.role !== 'admin' && input.user !== undefined && input.user !== viewer.id) throw CheckoutErrors.userFilterForbidden();
    const userId = viewer.role === 'admin' ? input.user : viewer.id;
    return this.checkout.list(em, { userId, status: input.status }, pick);
  }

  /** The buyer (or an admin) cancels an unpaid order; its stock and coupon use are given back. */
  async cancel(em: EntityManager, actor: OrderViewer, id: number): Promise<OrderDetail> {
    await em.transactional(async (tx) => {
      const order = await this.checkout.visibleOrder(tx, actor, id, { lock: true });
      if (!order) throw CheckoutErrors.orderNotFound();
      await this.transition(tx, order, 'cancelled');
    });
    return this.detail(em, id);
  }

  /** Cancels every unpaid order past its deadline (the scheduler runs this); returns how many. */
  async expireUnpaid(em: EntityManager, now = new Date()): Promise<number> {
    let cancelled = 0;
    for (const id of await this.checkout.dueUnpaid(em, now)) if (await this.expire(em, id, now)) cancelled += 1;
    return cancelled;
  }

  /** Cancels the order if it is still unpaid past its deadline (idempotent); whether it did. */
  async expire(em: EntityManager, id: number, now = new Date()): Promise<boolean> {
    return em.transactional(async (tx) => {
      const order = await this.checkout.lockExpired(tx, id, now);
      if (!order) return false; // paid, cancelled, or not due yet
      await this.transition(tx, order, 'cancelled');
      return true;
    });
  }

  /**
   * The one place an order's status changes: checks the state machine, moves stock back when an
   * order is cancelled or refunded (goods that come back, or never left), gives a coupon use back
   * on cancellation, stamps the dates and the payment status, and announces the change. When money
   * may have to go back (a payment under way at cancellation, a paid order refunded) it also
   * announces `order.refund_due`, in the same transaction: the refund job exists exactly when the
   * change commits.
   */
  async transition(em: EntityManager, order: Order, to: OrderStatus): Promise<void> {
    const from = order.status;
    assertTransition(from, to);
    const moneyTaken = order.paymentStatus === 'paid' || order.paymentStatus === 'partially_refunded';
    const refundDue = (to === 'cancelled' && order.paymentStatus === 'pending') || (to === 'refunded' && moneyTaken);
    const now = new Date();
    if (to === 'cancelled' || to === 'refunded') {
      const items = await this.checkout.items(em, order.id);
      const lines = items.map((i) => ({ variantId: i.variant.id, productId: i.product.id, quantity: i.quantity }));
      await this.inventory.restock(em, to === 'cancelled' ? 'cancellation' : 'return', order.id, lines);
    }
    if (to === 'cancelled' && order.discountRef) await this.discounts.release(em, order.discountRef.id, order.id);
    order.status = to;
    if (to === 'paid') {
      this.setPaymentStatus(order, 'paid');
      order.paidAt = now;
      order.expiresAt = null;
    }
    if (to === 'cancelled') {
      order.cancelledAt = now;
      order.expiresAt = null;
    }
    if (to === 'shipped') order.shippedAt = now;
    if (to === 'delivered') order.deliveredAt = now;
    if (to === 'refunded' && moneyTaken) {
      this.setPaymentStatus(order, 'refunded');
      order.refundedTotal = order.total;
    }
    await em.flush();
    await this.events.publish(em, 'order.status_changed', { ...orderEvent(order), from });
    if (refundDue) await this.events.publish(em, 'order.refund_due', orderEvent(order));
  }

  /** A charge succeeded for the (locked) order after it stopped waiting for payment: the money must go back. */
  async refundDue(em: EntityManager, order: Order): Promise<void> {
    await this.events.publish(em, 'order.refund_due', orderEvent(order));
  }

  /**
   * A refund of the (locked) order was recorded (`amount` minor units, of `paid` its payment took):
   * what it gave back grows, and its payment status says partially refunded or refunded. The refund
   * itself is made by a job, announced here in the same transaction.
   */
  async refundRequested(em: EntityManager, order: Order, refundId: number, amount: number, paid: number): Promise<void> {
    const refunded = toMinor(order.refundedTotal) + amount;
    order.refundedTotal = fromMinor(refunded);
    const to = refunded >= paid ? 'refunded' : 'partially_refunded';
    if (order.paymentStatus !== to) this.setPaymentStatus(order, to);
    await em.flush();
    await this.events.publish(em, 'order.refund_requested', { refundId, orderId: order.id });
  }

  /**
   * The provider gave `amount` (a decimal string) of the (locked) order back: announces
   * `order.refunded` in the caller's transaction (the one recording the provider's answer).
   */
  async refunded(em: EntityManager, order: Order, amount: string): Promise<void> {
    await this.events.publish(em, 'order.refunded', { ...orderEvent(order), amount });
  }

  /** The provider refused a refund of the (locked) order: its amount no longer counts as given back. */
  refundRefused(order: Order, amount: number): void {
    const refunded = Math.max(0, toMinor(order.refundedTotal) - amount);
    order.refundedTotal = fromMinor(refunded);
    const to = refunded === 0 ? 'paid' : 'partially_refunded';
    if (order.paymentStatus !== to) this.setPaymentStatus(order, to);
  }

  /** A payment of the (locked) order started: its payment status is pending. */
  paymentStarted(order: Order): void {
    this.setPaymentStatus(order, 'pending');
  }

  /**
   * A payment of the (locked) order failed: its payment status says so (while it waits for payment,
   * another may start; a cancelled order's payment under way ends there).
   */
  paymentFailed(order: Order): void {
    if (order.paymentStatus === 'pending') this.setPaymentStatus(order, 'failed');
  }

  /**
   * A payment of the (locked) order was voided or refunded at the provider. An order still waiting
   * for payment may be paid again (failed); a cancelled one whose payment was under way ends
   * refunded if money had been taken, else failed. A refunded order already says refunded.
   */
  paymentReversed(order: Order, moneyReturned: boolean): void {
    if (order.paymentStatus !== 'pending') return;
    this.setPaymentStatus(order, order.status !== 'pending_payment' && moneyReturned ? 'refunded' : 'failed');
  }

  /** Forgets the Idempotency-Keys older than their time to live (the scheduler runs this); how many. */
  async purgeIdempotencyKeys(em: EntityManager, now = new Date(), batch = 5_000): Promise<number> {
    const before = new Date(now.getTime() - this.settings.idempotencyTtlHours * 3_600_000);
    let purged = 0;
    for (;;) {
      const deleted = await this.checkout.deleteIdempotencyKeysBefore(em, before, batch);
      purged += deleted;
      if (deleted < batch) return purged;
    }
  }

  /** Whether the user bought the product (a paid, shipped or delivered order contains it). */
  hasPurchased(em: EntityManager, userId: number, productId: number): Promise<boolean> {
    return this.checkout.hasPurchased(em, userId, productId);
  }

  private setPaymentStatus(order: Order, to: Order['paymentStatus']): void {
    assertPaymentTransition(order.paymentStatus, to);
    order.paymentStatus = to;
  }

  /** The order with its items and shipment; given an id (after a transaction), read afresh. */
  private async detail(em: EntityManager, ref: Order | number): Promise<OrderDetail> {
    const order = typeof ref === 'number' ? await this.checkout.order(em, ref, { refresh: true }) : ref;
    if (!order) throw CheckoutErrors.orderNotFound();
    const [items, shipment] = [await this.checkout.items(em, order.id), await this.checkout.shipmentOf(em, order.id)];
    return { order, items, shipment };
  }
}
