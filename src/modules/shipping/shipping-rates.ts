import { toMinor } from '../../shared/money';
import type { ShippingRateType, SubtotalTier, WeightTier } from './shipping-method.entity';

/** What a method's price depends on. */
export interface ShippingBasket {
  /** Minor units: the subtotal after discount. */
  goods: number;
  /** Grams: the weight of every unit. */
  weightGrams: number;
}

export interface RatedMethod {
  rateType: ShippingRateType;
  flatPrice: string | null;
  subtotalTiers: readonly SubtotalTier[];
  weightTiers: readonly WeightTier[];
  freeAbove: string | null;
}

/**
 * A method's price for a basket, in minor units: 0 from `freeAbove` (compared with the subtotal
 * after discount), else the flat price, or the price of the highest tier the basket reaches (tiers
 * start at 0, so one always applies).
 */
export function shippingPrice(method: RatedMethod, basket: ShippingBasket): number {
  if (method.freeAbove !== null && basket.goods >= toMinor(method.freeAbove)) return 0;
  if (method.rateType === 'flat') return toMinor(method.flatPrice ?? '0');
  const tiers =
    method.rateType === 'subtotal'
      ? method.subtotalTiers.map((t) => ({ from: toMinor(t.min_subtotal), price: t.price }))
      : method.weightTiers.map((t) => ({ from: t.min_weight_grams, price: t.price }));
  const reached = method.rateType === 'subtotal' ? basket.goods : basket.weightGrams;
  let price = tiers[0]?.price ?? '0';
  for (const t of tiers) if (reached >= t.from) price = t.price;
  return toMinor(price);
}
