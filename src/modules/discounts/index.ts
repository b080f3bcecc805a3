/** Discounts: coupon codes, their rules and their redemptions. Owns `discounts`, `discount_products` and `discount_redemptions`. */
import { Discount, DiscountRedemption } from './discount.entity';

export { discountsHandlers, type DiscountsDeps } from './discounts.handlers';
export { DiscountsRepository } from './discounts.repository';
export { DiscountsService, type AppliedDiscount, type ProductDirectory } from './discounts.service';
export { priceLines, subtotalOf, type PricedLine } from './pricing';

/** The entities this context maps. */
export const discountsEntities = [Discount, DiscountRedemption];
