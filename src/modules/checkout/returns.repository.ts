import { LockMode } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { Payment } from './payment.entity';
import { OrderReturn, Refund, ReturnItem } from './return.entity';
import type { ReturnStatus } from './states';

export interface ReturnFilter {
  orderId?: number;
  status?: ReturnStatus;
}

/** The scope of the returns lists' cursors (newest first). */
export const RETURNS_SCOPE = 'returns:-created_at';

const lockedIf = (lock?: boolean) => (lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});

/** Checkout's queries about returns and refunds. */
export class ReturnsRepository {
  orderReturn(em: EntityManager, id: number, options: { lock?: boolean; refresh?: boolean } = {}): Promise<OrderReturn | null> {
    return em.findOne(OrderReturn, id, { ...lockedIf(options.lock), refresh: options.refresh });
  }

  /** The return if the viewer may see it (its buyer, or an admin), else null. */
  visibleReturn(em: EntityManager, viewer: Principal, id: number): Promise<OrderReturn | null> {
    return em.findOne(OrderReturn, viewer.role === 'admin' ? { id } : { id, user: viewer.id });
  }

  /** Returns newest first. */
  list(em: EntityManager, filter: ReturnFilter, pick: PagePicker): Promise<Listing<OrderReturn>> {
    const where: FilterQuery<OrderReturn> = {};
    if (filter.orderId !== undefined) where.order = filter.orderId;
    if (filter.status) where.status = filter.status;
    return findListing(em, OrderReturn, where, { property: 'createdAt', column: 'created_at', descending: true, key: (r) => r.createdAt.toISOString() }, RETURNS_SCOPE, pick);
  }

  /** The lines of these returns, with their order lines loaded. */
  itemsOf(em: EntityManager, returnIds: number[]): Promise<ReturnItem[]> {
    if (!returnIds.length) return Promise.resolve([]);
    return em.find(ReturnItem, { orderReturn: { $in: returnIds } }, { orderBy: { id: 'asc' }, populate: ['orderItem'] });
  }

  /** Units of each line of the order in its returns that are not rejected (open or completed). */
  async claimedUnits(em: EntityManager, orderId: number): Promise<Map<number, number>> {
    const rows = await em.execute<{ order_item_id: number; units: number }[]>(
      `select ri.order_item_id, sum(ri.quantity)::int as units
         from return_items ri join returns r on r.id = ri.return_id
        where r.order_id = ? and r.status <> 'rejected'
        group by ri.order_item_id`,
      [orderId],
    );
    return new Map(rows.map((r) => [r.order_item_id, r.units]));
  }

  refund(em: EntityManager, id: number, options: { lock?: boolean; refresh?: boolean } = {}): Promise<Refund | null> {
    return em.findOne(Refund, id, { ...lockedIf(options.lock), refresh: options.refresh });
  }

  /** The newest refund of each of these returns. */
  async latestRefunds(em: EntityManager, returnIds: number[]): Promise<Map<number, Refund>> {
    if (!returnIds.length) return new Map();
    const refunds = await em.find(Refund, { orderReturn: { $in: returnIds } }, { orderBy: { id: 'asc' } });
    return new Map(refunds.map((r) => [r.orderReturn!.id, r]));
  }

  /** What the order's refunds that were not refused add up to, in minor units. */
  async refundedMinor(em: EntityManager, orderId: number, status: 'not_failed' | 'succeeded' = 'not_failed', paymentId?: number): Promise<number> {
    const [row] = await em.execute<{ minor: string | number }[]>(
      `select coalesce(sum(amount * 100), 0)::bigint as minor from refunds
        where order_id = ? and ${status === 'succeeded' ? `status = 'succeeded'` : `status <> 'failed'`} ${paymentId === undefined ? '' : 'and payment_id = ?'}`,
      paymentId === undefined ? [orderId] : [orderId, paymentId],
    );
    return Number(row?.minor ?? 0);
  }

  /** The order's payment that took the money (at most one). */
  succeededPayment(em: EntityManager, orderId: number, options: { lock?: boolean } = {}): Promise<Payment | null> {
    return em.findOne(Payment, { order: orderId, status: 'succeeded' }, lockedIf(options.lock));
  }

  payment(em: EntityManager, id: number, options: { lock?: boolean } = {}): Promise<Payment | null> {
    return em.findOne(Payment, id, lockedIf(options.lock));
  }
}
