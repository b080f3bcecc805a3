import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import { normalizeMoney, toMinor } from '../../shared/money';
import type { Listing, PagePicker } from '../../shared/paging';
import { Discount } from './discount.entity';
import { CouponErrors } from './discounts.errors';
import type { DiscountsRepository } from './discounts.repository';
import { discountFor, type PricedLine, subtotalOf } from './pricing';

export type DiscountInput = components['schemas']['DiscountCreate'];
export type DiscountPatch = components['schemas']['DiscountUpdate'];

export interface AppliedDiscount {
  discount: Discount;
  /** Minor units. */
  amount: number;
  /** The products it applies to (empty: every line). */
  productIds: number[];
}

/** Which products exist (the catalog answers). */
export interface ProductDirectory {
  existingProducts(em: EntityManager, ids: readonly number[]): Promise<number[]>;
}

/** Coupon codes: administration, and the rules that decide what a code is worth for a cart. */
export class DiscountsService {
  constructor(
    private readonly discounts: DiscountsRepository,
    private readonly products: ProductDirectory,
  ) {}

  list(em: EntityManager, filter: { isActive?: boolean }, pick: PagePicker): Promise<Listing<Discount>> {
    return this.discounts.list(em, filter, pick);
  }

  async get(em: EntityManager, id: number): Promise<Discount> {
    const discount = await this.discounts.byId(em, id);
    if (!discount) throw CouponErrors.notFound();
    return discount;
  }

  async create(em: EntityManager, input: DiscountInput): Promise<Discount> {
    const discount = new Discount(input.code, input.kind, normalizeMoney(input.value));
    await this.apply(em, discount, input);
    em.persist(discount);
    await this.flush(em, discount.code);
    return discount;
  }

  async update(em: EntityManager, id: number, patch: DiscountPatch): Promise<Discount> {
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
    if (!(await this.discounts.exists(em, id))) throw CouponErrors.notFound();
    await this.discounts.deleteOrDeactivate(em, id);
  }

  /**
   * What `code` is worth for these lines now, or the reason it is worth nothing. `lock` (checkout):
   * the discount row is locked, so usage limits are checked and redeemed without a race.
   */
  async evaluate(em: EntityManager, code: string, ctx: { userId: number | null; lines: PricedLine[]; lock?: boolean }): Promise<AppliedDiscount> {
    const discount = await this.discounts.byCode(em, code, { lock: ctx.lock });
    if (!discount) throw CouponErrors.unknown(code);
    const now = new Date();
    if (!discount.isActive) throw CouponErrors.inactive(discount.code);
    if (discount.validFrom && discount.validFrom > now) throw CouponErrors.notStarted(discount.code, discount.validFrom);
    if (discount.validTo && discount.validTo <= now) throw CouponErrors.expired(discount.code, discount.validTo);
    if (discount.maxUses !== null && discount.timesUsed >= discount.maxUses) throw CouponErrors.exhausted(discount.code);
    // A limit per customer needs a customer to count for: guests may not use such a code.
    if (discount.maxUsesPerUser !== null && ctx.userId === null) throw CouponErrors.needsAccount(discount.code);
    if (discount.maxUsesPerUser !== null && (await this.discounts.redemptionsBy(em, discount.id, ctx.userId!)) >= discount.maxUsesPerUser) {
      throw CouponErrors.userLimit(discount.code);
    }
    if (discount.minSubtotal !== null && subtotalOf(ctx.lines) < toMinor(discount.minSubtotal)) {
      throw CouponErrors.minSubtotal(discount.code, discount.minSubtotal);
    }
    const rule = { kind: discount.kind, value: discount.value, productIds: discount.products.getItems().map((p) => p.id) };
    const { eligible, amount } = discountFor(rule, ctx.lines);
    if (eligible === 0 || amount === 0) throw CouponErrors.notApplicable(discount.code);
    return { discount, amount, productIds: rule.productIds };
  }

  /** Records a use by an order; the conditional increment refuses a use past the limit. */
  async redeem(em: EntityManager, applied: AppliedDiscount, userId: number | null, orderId: number, amount: string): Promise<void> {
    if (!(await this.discounts.countUse(em, applied.discount.id))) throw CouponErrors.exhausted(applied.discount.code);
    await this.discounts.recordRedemption(em, { discountId: applied.discount.id, userId, orderId, amount });
  }

  /** Gives back the use an order made of a discount (the order was cancelled). */
  release(em: EntityManager, discountId: number, orderId: number): Promise<void> {
    return this.discounts.uncountUse(em, discountId, orderId);
  }

  private async apply(em: EntityManager, d: Discount, f: DiscountPatch): Promise<void> {
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
      const found = new Set(await this.products.existingProducts(em, f.products));
      const missing = f.products.filter((id) => !found.has(id));
      if (missing.length) throw CouponErrors.unknownProducts(missing);
      d.limitTo(f.products);
    }
  }

  private flush(em: EntityManager, code: string): Promise<void> {
    return refuseViolations(() => em.flush(), { unique: () => CouponErrors.codeTaken(code) });
  }
}
