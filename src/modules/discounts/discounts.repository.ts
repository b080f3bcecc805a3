import { LockMode } from '@mikro-orm/core';
import { type EntityManager, raw } from '@mikro-orm/postgresql';
import { deleteOrDeactivate } from '../../db/history';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { Discount, DiscountRedemption } from './discount.entity';

/** The discounts' queries. */
export class DiscountsRepository {
  /** Discounts, newest first, with the products they are limited to. */
  async list(em: EntityManager, filter: { isActive?: boolean }, pick: PagePicker): Promise<Listing<Discount>> {
    const where = filter.isActive === undefined ? {} : { isActive: filter.isActive };
    const listing = await findListing(em, Discount, where, { property: 'id', column: 'id', descending: true, key: (d) => d.id }, 'discounts:-id', pick);
    await em.populate(listing.slice.items, ['products']);
    return listing;
  }

  byId(em: EntityManager, id: number): Promise<Discount | null> {
    return em.findOne(Discount, id, { populate: ['products'] });
  }

  async exists(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(Discount, id)) > 0;
  }

  /** The discount with this code (regardless of case), locked for update when asked (checkout). */
  byCode(em: EntityManager, code: string, options: { lock?: boolean } = {}): Promise<Discount | null> {
    return em.findOne(Discount, { [raw('lower(code)')]: code.toLowerCase() }, { populate: ['products'], ...(options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) });
  }

  redemptionsBy(em: EntityManager, discountId: number, userId: number): Promise<number> {
    return em.count(DiscountRedemption, { discount: discountId, user: userId });
  }

  /** Counts a use unless the limit is reached (a conditional increment); whether it counted. */
  async countUse(em: EntityManager, discountId: number): Promise<boolean> {
    const counted = await em.execute<{ id: number }[]>(
      'update discounts set times_used = times_used + 1 where id = ? and (max_uses is null or times_used < max_uses) returning id',
      [discountId],
    );
    return counted.length > 0;
  }

  async recordRedemption(em: EntityManager, redemption: { discountId: number; userId: number | null; orderId: number; amount: string }): Promise<void> {
    await em.insert(DiscountRedemption, { discount: redemption.discountId, user: redemption.userId, orderId: redemption.orderId, amount: redemption.amount });
  }

  /** Gives back the use an order made, and forgets its redemption. */
  async uncountUse(em: EntityManager, discountId: number, orderId: number): Promise<void> {
    await em.execute('update discounts set times_used = greatest(times_used - 1, 0) where id = ?', [discountId]);
    await em.nativeDelete(DiscountRedemption, { orderId });
  }

  deleteOrDeactivate(em: EntityManager, id: number): Promise<void> {
    return deleteOrDeactivate(em, Discount, id);
  }
}
