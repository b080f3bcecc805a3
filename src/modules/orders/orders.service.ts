import { LockMode } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { findSlice } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import { fromMinor } from '../../shared/money';
import { priceLines } from '../discounts/pricing';
import type { PageRequest, Slice } from '../../shared/paging';
import { User } from '../accounts/user.entity';
import { Address } from '../addresses/address.entity';
import type { AddressesService } from '../addresses/addresses.service';
import type { CartService } from '../cart/cart.service';
import { ProductVariant } from '../catalog/product-variant.entity';
import { Product } from '../catalog/product.entity';
import { Discount } from '../discounts/discount.entity';
import type { DiscountsService } from '../discounts/discounts.service';
import { Shipment } from '../shipments/shipment.entity';
import { claimIdempotencyKey, type IdempotentRequest, rememberIdempotencyKey, requestHash } from './idempotency';
import { assertTransition, type OrderStatus } from './order-state';
import { Order, OrderItem } from './order.entity';
import { OrderErrors } from './orders.errors';
import { moveStock, type StockReason } from './stock';

type OrderCreate = components['schemas']['OrderCreate'];
export type OrderListQuery = NonNullable<operations['listOrders']['parameters']['query']>;

export interface OrderDetail {
  order: Order;
  items: OrderItem[];
  shipment: Shipment | null;
}

export interface OrderSettings {
  currency: string;
  paymentWindowMinutes: number;
  idempotencyTtlHours: number;
}

/** Hooks other modules attach to order events, run inside the transaction that causes them. */
export interface OrderEvents {
  placed?(em: EntityManager, order: Order): Promise<void>;
  statusChanged?(em: EntityManager, order: Order, from: OrderStatus): Promise<void>;
}

/** Checkout and the order lifecycle. Every state change goes through `transition`. */
export class OrdersService {
  events: OrderEvents = {};

  constructor(
    private readonly cart: CartService,
    private readonly discounts: DiscountsService,
    private readonly addresses: AddressesService,
    private readonly settings: OrderSettings,
  ) {}

  /**
   * Places an order from the owner's cart in one transaction: re-price, reserve stock (never below
   * zero), snapshot the address, apply and redeem the coupon, record the order and empty the cart.
   * With an Idempotency-Key, a retry answers the order placed before (`replayed`).
   */
  async place(em: EntityManager, owner: Principal, input: OrderCreate, idempotencyKey?: string): Promise<{ detail: OrderDetail; replayed: boolean }> {
    const idem: IdempotentRequest | undefined = idempotencyKey
      ? { userId: owner.id, scope: 'order', key: idempotencyKey, hash: requestHash(input) }
      : undefined;
    const result = await em.transactional(async (tx) => {
      if (idem) {
        const previous = await claimIdempotencyKey(tx, idem, this.settings.idempotencyTtlHours);
        if (previous !== null) return { orderId: previous, replayed: true };
      }
      // The cart lock serialises checkouts of one cart: a double submit finds it empty.
      const { id: cartId, couponCode } = await this.cart.lockCart(tx, owner.id);
      const lines = await this.cart.checkoutLines(tx, cartId);
      if (lines.length === 0) throw OrderErrors.cartEmpty();
      const unavailable = lines.filter((l) => !l.sellable).map((l) => l.id);
      if (unavailable.length) throw OrderErrors.cartHasUnavailableItems(unavailable);
      const address = await this.addresses.find(tx, owner, input.shipping_address);
      if (!address) throw OrderErrors.unknownAddress(input.shipping_address);

      const { lines: priced, subtotal } = priceLines(lines);
      const code = input.coupon ?? couponCode;
      const applied = code ? await this.discounts.evaluate(tx, code, { userId: owner.id, lines: priced, lock: true }) : null;
      const discount = applied?.amount ?? 0;

      const order = new Order(tx.getReference(User, owner.id, { wrapped: true }), this.settings.currency, fromMinor(subtotal), fromMinor(subtotal - discount));
      order.discount = fromMinor(discount);
      order.couponCode = applied?.discount.code ?? null;
      order.discountRef = applied ? tx.getReference(Discount, applied.discount.id, { wrapped: true }) : null;
      order.shippingAddress = tx.getReference(Address, address.id, { wrapped: true });
      Object.assign(order, {
        shipRecipientName: address.recipientName,
        shipPhone: address.phone,
        shipLine1: address.line1,
        shipLine2: address.line2,
        shipCity: address.city,
        shipRegion: address.region,
        shipPostalCode: address.postalCode,
        shipCountry: address.country,
      });
      order.expiresAt = new Date(Date.now() + this.settings.paymentWindowMinutes * 60_000);
      tx.persist(order);
      await tx.flush();

      await moveStock(tx, 'sale', order.id, lines);
      for (const [i, l] of lines.entries()) {
        const item = new OrderItem(
          tx.getReference(Order, order.id, { wrapped: true }),
          tx.getReference(ProductVariant, l.variantId, { wrapped: true }),
          tx.getReference(Product, l.productId, { wrapped: true }),
          { productName: l.productName, sku: l.sku, unitPrice: l.price, quantity: l.quantity, lineTotal: fromMinor(priced[i].lineTotal) },
        );
        item.variantName = l.variantName;
        tx.persist(item);
      }
      if (applied) await this.discounts.redeem(tx, applied, owner.id, order.id, order.discount);
      await this.cart.empty(tx, cartId);
      if (idem) rememberIdempotencyKey(tx, idem, order.id);
      await tx.flush();
      await this.events.placed?.(tx, order);
      return { orderId: order.id, replayed: false };
    });
    return { detail: await this.detail(em, result.orderId), replayed: result.replayed };
  }

  /** The owner's order (admins: any); anyone else's answers 404. */
  async get(em: EntityManager, viewer: Principal, id: number): Promise<OrderDetail> {
    const order = await this.findVisible(em, viewer, id);
    if (!order) throw OrderErrors.notFound();
    return this.detail(em, order);
  }

  /**
   * The order if the viewer may see it (its buyer, or an admin), else null: to anyone else another
   * user's order does not exist. `lock`: locked for update (inside the caller's transaction).
   */
  async findVisible(em: EntityManager, viewer: Principal, id: number, options: { lock?: boolean } = {}): Promise<Order | null> {
    return em.findOne(Order, viewer.role === 'admin' ? { id } : { id, user: viewer.id }, options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
  }

  async list(em: EntityManager, viewer: Principal, query: OrderListQuery, page: PageRequest): Promise<{ slice: Slice<Order>; itemCounts: Map<number, number> }> {
    const where: FilterQuery<Order> = {};
    if (viewer.role !== 'admin') {
      if (query.user !== undefined && query.user !== viewer.id) throw OrderErrors.userFilterForbidden();
      where.user = viewer.id;
    } else if (query.user !== undefined) {
      where.user = query.user;
    }
    if (query.status) where.status = query.status;
    const slice = await findSlice(em, Order, where, { property: 'createdAt', column: 'created_at', descending: true, key: (o) => o.createdAt.toISOString() }, page);
    const ids = slice.items.map((o) => o.id);
    const counts = ids.length
      ? await em.execute<{ order_id: number; units: number }[]>(
          'select order_id, sum(quantity)::int as units from order_items where order_id = any(?::int[]) group by order_id',
          [`{${ids.join(',')}}`],
        )
      : [];
    return { slice, itemCounts: new Map(counts.map((c) => [c.order_id, c.units])) };
  }

  /** The buyer (or an admin) cancels an unpaid order; its stock and coupon use are given back. */
  async cancel(em: EntityManager, actor: Principal, id: number): Promise<OrderDetail> {
    await em.transactional(async (tx) => {
      const order = await this.findVisible(tx, actor, id, { lock: true });
      if (!order) throw OrderErrors.notFound();
      await this.transition(tx, order, 'cancelled');
    });
    return this.detail(em, id);
  }

  /** Cancels every unpaid order past its deadline (the scheduler runs this); returns how many. */
  async expireUnpaid(em: EntityManager, now = new Date()): Promise<number> {
    const due = await em.execute<{ id: number }[]>(
      `select id from orders where status = 'pending_payment' and expires_at <= ? order by id limit 500`,
      [now],
    );
    let cancelled = 0;
    for (const { id } of due) if (await this.expire(em, id, now)) cancelled += 1;
    return cancelled;
  }

  /** Cancels the order if it is still unpaid past its deadline (idempotent); whether it did. */
  async expire(em: EntityManager, id: number, now = new Date()): Promise<boolean> {
    return em.transactional(async (tx) => {
      const order = await tx.findOne(Order, { id, status: 'pending_payment', expiresAt: { $lte: now } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!order) return false; // paid, cancelled, or not due yet
      await this.transition(tx, order, 'cancelled');
      return true;
    });
  }

  /**
   * The one place order state changes: checks the state machine, moves stock back when an order
   * is cancelled or refunded before it shipped (or when goods are returned), gives a coupon use
   * back on cancellation, stamps the dates, and tells the listeners.
   */
  async transition(em: EntityManager, order: Order, to: OrderStatus): Promise<void> {
    const from = order.status;
    assertTransition(from, to);
    const now = new Date();
    // A refund restocks what comes back (a return, or goods that never left).
    const restock: StockReason | undefined = to === 'cancelled' ? 'cancellation' : to === 'refunded' ? 'return' : undefined;
    if (restock) {
      const items = await em.find(OrderItem, { order: order.id });
      await moveStock(em, restock, order.id, items.map((i) => ({ variantId: i.variant.id, productId: i.product.id, quantity: i.quantity })));
    }
    if (to === 'cancelled' && order.discountRef) await this.discounts.release(em, order.discountRef.id, order.id);
    order.status = to;
    if (to === 'paid') {
      order.paidAt = now;
      order.paymentStatus = 'paid';
      order.expiresAt = null;
    }
    if (to === 'cancelled') {
      order.cancelledAt = now;
      order.expiresAt = null;
    }
    if (to === 'shipped') order.shippedAt = now;
    if (to === 'delivered') order.deliveredAt = now;
    if (to === 'refunded' && order.paymentStatus === 'paid') order.paymentStatus = 'refunded';
    await em.flush();
    await this.events.statusChanged?.(em, order, from);
  }

  /** Whether the user bought the product (a paid, shipped or delivered order contains it). */
  async hasPurchased(em: EntityManager, userId: number, productId: number): Promise<boolean> {
    const rows = await em.execute(
      `select 1 from order_items oi join orders o on o.id = oi.order_id
        where o.user_id = ? and oi.product_id = ? and o.status in ('paid', 'shipped', 'delivered') limit 1`,
      [userId, productId],
    );
    return rows.length > 0;
  }

  /** The order with its items and shipment; given an id (after a transaction), read afresh. */
  private async detail(em: EntityManager, ref: Order | number): Promise<OrderDetail> {
    const order = typeof ref === 'number' ? await em.findOneOrFail(Order, ref, { refresh: true }) : ref;
    const items = await em.find(OrderItem, { order: order.id }, { orderBy: { id: 'asc' } });
    const shipment = await em.findOne(Shipment, { order: order.id });
    return { order, items, shipment };
  }
}
