import { LockMode, type QueryResult } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Guest, Principal } from '../../shared/principal';
import { Order, OrderItem } from './order.entity';
import { Payment } from './payment.entity';
import { Shipment } from './shipment.entity';
import type { OrderStatus } from './states';

export interface OrderFilter {
  /** Only this buyer's orders. */
  userId?: number;
  status?: OrderStatus;
}

/** Who reads an order: an account (its own; admins any), or a guest (the orders placed from its cart token). */
export type OrderViewer = Principal | Guest;

const ownedBy = (viewer: OrderViewer, id: number): FilterQuery<Order> =>
  'tokenHash' in viewer ? { id, guestTokenHash: viewer.tokenHash } : viewer.role === 'admin' ? { id } : { id, user: viewer.id };

const lockedIf = (lock?: boolean) => (lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});

/** Checkout's queries: orders and their items, payments, shipments. */
export class CheckoutRepository {
  /**
   * The order if the viewer may see it (its buyer, or an admin), else null: to anyone else another
   * user's order does not exist. `lock`: locked for update (inside the caller's transaction).
   */
  visibleOrder(em: EntityManager, viewer: OrderViewer, id: number, options: { lock?: boolean } = {}): Promise<Order | null> {
    return em.findOne(Order, ownedBy(viewer, id), lockedIf(options.lock));
  }

  /** A guest's order (no account holds it) by its id and the email it was placed with, case-insensitively. */
  async guestOrder(em: EntityManager, id: number, email: string): Promise<Order | null> {
    const order = await em.findOne(Order, { id, user: null });
    return order?.guestEmail?.toLowerCase() === email.toLowerCase() ? order : null;
  }

  /** Gives the guest orders placed with an email (case-insensitive) to an account, forgetting their cart token; how many. */
  async claimGuestOrders(em: EntityManager, userId: number, email: string): Promise<number> {
    const { affectedRows } = await em.execute<QueryResult>(
      'update orders set user_id = ?, guest_token_hash = null, updated_at = now() where user_id is null and lower(guest_email) = lower(?)',
      [userId, email],
      'run',
    );
    return affectedRows;
  }

  order(em: EntityManager, id: number, options: { lock?: boolean; refresh?: boolean } = {}): Promise<Order | null> {
    return em.findOne(Order, id, { ...lockedIf(options.lock), refresh: options.refresh });
  }

  /** The buyer's order (an account's own, or a guest's from its cart token), locked (paying it). */
  lockOwnOrder(em: EntityManager, buyer: number | Guest, id: number): Promise<Order | null> {
    return em.findOne(Order, typeof buyer === 'number' ? { id, user: buyer } : { id, guestTokenHash: buyer.tokenHash }, lockedIf(true));
  }

  /** Orders newest first, with how many units each holds. */
  async list(em: EntityManager, filter: OrderFilter, pick: PagePicker): Promise<{ orders: Listing<Order>; units: Map<number, number> }> {
    const where: FilterQuery<Order> = {};
    if (filter.userId !== undefined) where.user = filter.userId;
    if (filter.status) where.status = filter.status;
    const orders = await findListing(em, Order, where, { property: 'createdAt', column: 'created_at', descending: true, key: (o) => o.createdAt.toISOString() }, 'orders:-created_at', pick);
    const ids = orders.slice.items.map((o) => o.id);
    const counts = ids.length
      ? await em.execute<{ order_id: number; units: number }[]>(
          'select order_id, sum(quantity)::int as units from order_items where order_id = any(?::int[]) group by order_id',
          [`{${ids.join(',')}}`],
        )
      : [];
    return { orders, units: new Map(counts.map((c) => [c.order_id, c.units])) };
  }

  items(em: EntityManager, orderId: number): Promise<OrderItem[]> {
    return em.find(OrderItem, { order: orderId }, { orderBy: { id: 'asc' } });
  }

  /** Unpaid orders past their deadline, oldest first, at most `limit`. */
  async dueUnpaid(em: EntityManager, now: Date, limit = 500): Promise<number[]> {
    const rows = await em.execute<{ id: number }[]>(`select id from orders where status = 'pending_payment' and expires_at <= ? order by id limit ?`, [now, limit]);
    return rows.map((r) => r.id);
  }

  /** The order, locked, if it is still unpaid past its deadline. */
  lockExpired(em: EntityManager, id: number, now: Date): Promise<Order | null> {
    return em.findOne(Order, { id, status: 'pending_payment', expiresAt: { $lte: now } }, lockedIf(true));
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

  payment(em: EntityManager, id: number, options: { lock?: boolean; refresh?: boolean } = {}): Promise<Payment | null> {
    return em.findOne(Payment, id, { ...lockedIf(options.lock), refresh: options.refresh });
  }

  /** The order's pending or succeeded payment (at most one, a unique index says). */
  livePayment(em: EntityManager, orderId: number): Promise<Payment | null> {
    return em.findOne(Payment, { order: orderId, status: { $in: ['pending', 'succeeded'] } });
  }

  paymentByReference(em: EntityManager, providerReference: string, options: { lock?: boolean } = {}): Promise<Payment | null> {
    return em.findOne(Payment, { providerReference }, lockedIf(options.lock));
  }

  /** Payments still pending whose last change is older than `before` (their outcome is due), oldest first. */
  async pendingSince(em: EntityManager, before: Date, limit: number): Promise<number[]> {
    const rows = await em.execute<{ id: number }[]>(`select id from payments where status = 'pending' and updated_at < ? order by updated_at, id limit ?`, [before, limit]);
    return rows.map((r) => r.id);
  }

  /** An order's payments, newest first. */
  paymentsOf(em: EntityManager, orderId: number): Promise<Payment[]> {
    return em.find(Payment, { order: orderId }, { orderBy: { id: 'desc' } });
  }

  /** Records a provider event by id; false when it was recorded before (a repeated delivery). */
  async recordPaymentEvent(em: EntityManager, id: string, type: string): Promise<boolean> {
    const inserted = await em.execute<{ id: string }[]>('insert into payment_events (id, type) values (?, ?) on conflict (id) do nothing returning id', [id, type]);
    return inserted.length > 0;
  }

  /** Deletes up to `limit` Idempotency-Keys created before `before`, oldest first; how many. */
  async deleteIdempotencyKeysBefore(em: EntityManager, before: Date, limit: number): Promise<number> {
    const { affectedRows } = await em.execute<QueryResult>(
      'delete from idempotency_keys where id in (select id from idempotency_keys where created_at < ? order by created_at limit ?)',
      [before, limit],
      'run',
    );
    return affectedRows;
  }

  shipmentOf(em: EntityManager, orderId: number, options: { lock?: boolean } = {}): Promise<Shipment | null> {
    return em.findOne(Shipment, { order: orderId }, lockedIf(options.lock));
  }

  async hasShipment(em: EntityManager, orderId: number): Promise<boolean> {
    return (await em.count(Shipment, { order: orderId })) > 0;
  }
}
