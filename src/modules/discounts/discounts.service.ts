import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { type EntityManager, raw } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { deleteOrDeactivate } from '../../db/history';
import { findSlice } from '../../db/keyset';
import { normalizeMoney, toMinor } from '../../shared/money';
import type { PageRequest, Slice } from '../../shared/paging';
import { Product } from '../catalog/product.entity';
import { Discount, DiscountRedemption } from './discount.entity';
import { CouponErrors } from './discounts.errors';
import { discountFor, type PricedLine, subtotalOf } from './pricing';

type DiscountCreate = components['schemas']['DiscountCreate'];
type DiscountUpdate = components['schemas']['DiscountUpdate'];
export type DiscountListQuery = NonNullable<operations['listDiscounts']['parameters']['query']>;

export interface AppliedDiscount {
  discount: Discount;
  /** Minor units. */
  amount: number;
}

/** Coupon codes: administration, and the rules that decide what a code is worth for a cart. */
export class DiscountsService {
  list(em: EntityManager, query: DiscountListQuery, page: PageRequest): Promise<Slice<Discount>> {
    const where = query.is_active === undefined ? {} : { isActive: query.is_active };
    return findSlice(em, Discount, where, { property: 'id', column: 'id', descending: true, key: (d) => d.id }, page).then(async (s) => {
      await em.populate(s.items, ['products']);
      return s;
    });
  }

  async get(em: EntityManager, id: number): Promise<Discount> {
    const discount = await em.findOne(Discount, id, { populate: ['products'] });
    if (!discount) throw CouponErrors.notFound();
    return discount;
  }

  async create(em: EntityManager, input: DiscountCreate): Promise<Discount> {
    const discount = new Discount(input.code, input.kind, normalizeMoney(input.value));
    await this.apply(em, discount, input);
    em.persist(discount);
    await this.flush(em, discount.code);
    return discount;
  }

  async update(em: EntityManager, id: number, patch: DiscountUpdate): Promise<Discount> {
    const discount = await this.get(em, id);
    if (patch.code !== undefined) discount.code = patch.code;
    if (patch.kind !== undefined) discount.kind = patch.kind;
    if (patch.value !== undefined) discount.value = normalizeMoney(patch.value);
    await this.apply(em, discount, patch);
    await this.flush(em, discount.code);
    return discount;
  }

  /** Deletes an unused discount; one that orders used is deactivated instead. */
  async delete(em: EntityManager, id: number): Promise<void> {
    if (!(await em.count(Discount, id))) throw CouponErrors.notFound();
    await deleteOrDeactivate(em, Discount, id);
  }

  private async apply(em: EntityManager, d: Discount, f: DiscountUpdate): Promise<void> {
    if (f.description !== undefined) d.description = f.description;
    if (f.valid_from !== undefined) d.validFrom = f.valid_from === null ? null : new Date(f.valid_from);
    if (f.valid_to !== undefined) d.validTo = f.valid_to === null ? null : new Date(f.valid_to);
    if (f.is_active !== undefined) d.isActive = f.is_active;
    if (f.min_subtotal !== undefined) d.minSubtotal = f.min_subtotal === null ? null : normalizeMoney(f.min_subtotal);
    if (f.max_uses !== undefined) d.maxUses = f.max_uses;
    if (f.max_uses_per_user !== undefined) d.maxUsesPerUser = f.max_uses_per_user;
    if (toMinor(d.value) <= 0) throw CouponErrors.zeroValue();
    if (d.kind === 'percentage' && toMinor(d.value) > 10_000) throw CouponErrors.badPercentage();
    if (d.validFrom && d.validTo && d.validTo <= d.validFrom) throw CouponErrors.badWindow();
    if (f.products !== undefined) {
      const found = await em.find(Product, { id: { $in: f.products } });
      const missing = f.products.filter((id) => !found.some((p) => p.id === id));
      if (missing.length) throw CouponErrors.unknownProducts(missing);
      d.products.set(found);
    }
  }

  private async flush(em: EntityManager, code: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw CouponErrors.codeTaken(code);
      throw err;
    }
  }

  /**
   * What `code` is worth for these lines now, or the reason it is worth nothing. `lock` (checkout):
   * the discount row is locked, so usage limits are checked and redeemed without a race.
   */
  async evaluate(
    em: EntityManager,
    code: string,
    ctx: { userId: number; lines: PricedLine[]; lock?: boolean },
  ): Promise<AppliedDiscount> {
    const discount = await em.findOne(
      Discount,
      { [raw('lower(code)')]: code.toLowerCase() },
      { populate: ['products'], ...(ctx.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) },
    );
    if (!discount) throw CouponErrors.unknown(code);
    const now = new Date();
    if (!discount.isActive) throw CouponErrors.inactive(discount.code);
    if (discount.validFrom && discount.validFrom > now) throw CouponErrors.notStarted(discount.code, discount.validFrom);
    if (discount.validTo && discount.validTo <= now) throw CouponErrors.expired(discount.code, discount.validTo);
    if (discount.maxUses !== null && discount.timesUsed >= discount.maxUses) throw CouponErrors.exhausted(discount.code);
    if (discount.maxUsesPerUser !== null) {
      const used = await em.count(DiscountRedemption, { discount: discount.id, user: ctx.userId });
      if (used >= discount.maxUsesPerUser) throw CouponErrors.userLimit(discount.code);
    }
    if (discount.minSubtotal !== null && subtotalOf(ctx.lines) < toMinor(discount.minSubtotal)) {
      throw CouponErrors.minSubtotal(discount.code, discount.minSubtotal);
    }
    const rule = { kind: discount.kind, value: discount.value, productIds: discount.products.getItems().map((p) => p.id) };
    const { eligible, amount } = discountFor(rule, ctx.lines);
    if (eligible === 0 || amount === 0) throw CouponErrors.notApplicable(discount.code);
    return { discount, amount };
  }

  /** Records a use by an order; the conditional increment refuses a use past the limit. */
  async redeem(em: EntityManager, applied: AppliedDiscount, userId: number, orderId: number, amount: string): Promise<void> {
    const counted = await em.execute<{ id: number }[]>(
      'update discounts set times_used = times_used + 1 where id = ? and (max_uses is null or times_used < max_uses) returning id',
      [applied.discount.id],
    );
    if (counted.length === 0) throw CouponErrors.exhausted(applied.discount.code);
    await em.execute('insert into discount_redemptions (discount_id, user_id, order_id, amount) values (?, ?, ?, ?)', [
      applied.discount.id,
      userId,
      orderId,
      amount,
    ]);
  }

  /** Gives back the use an order made of a discount (the order was cancelled). */
  async release(em: EntityManager, discountId: number, orderId: number): Promise<void> {
    await em.execute('update discounts set times_used = greatest(times_used - 1, 0) where id = ?', [discountId]);
    await em.execute('delete from discount_redemptions where order_id = ?', [orderId]);
  }
}
