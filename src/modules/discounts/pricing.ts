import { toMinor } from '../../shared/money';

/** A priced line, in minor units. */
export interface PricedLine {
  productId: number;
  lineTotal: number;
}

/** Lines priced in minor units (unit price × quantity), in the given order, with their subtotal. */
export function priceLines<L extends { productId: number; price: string; quantity: number }>(lines: readonly L[]): { lines: (L & PricedLine)[]; subtotal: number } {
  const priced = lines.map((l) => ({ ...l, lineTotal: toMinor(l.price) * l.quantity }));
  return { lines: priced, subtotal: subtotalOf(priced) };
}

export const subtotalOf = (lines: readonly PricedLine[]): number => lines.reduce((sum, l) => sum + l.lineTotal, 0);

export interface DiscountRule {
  kind: 'percentage' | 'fixed';
  /** A percentage ("12.50") or an amount ("5.00"). */
  value: string;
  /** Empty: the whole cart is eligible. */
  productIds: readonly number[];
}

/**
 * The discount on a set of lines, in minor units. Percentages are rounded half up to the cent; a
 * fixed amount never exceeds what it applies to, so a total never goes below zero.
 */
export function discountFor(rule: DiscountRule, lines: readonly PricedLine[]): { eligible: number; amount: number } {
  const limited = rule.productIds.length > 0;
  const eligible = lines
    .filter((l) => !limited || rule.productIds.includes(l.productId))
    .reduce((sum, l) => sum + l.lineTotal, 0);
  if (rule.kind === 'fixed') return { eligible, amount: Math.min(toMinor(rule.value), eligible) };
  // value "12.50" → 1250 basis points of a percent; amount = eligible × 1250 / 10000, rounded half up.
  const basisPoints = toMinor(rule.value);
  const amount = Math.floor((eligible * basisPoints + 5000) / 10000);
  return { eligible, amount: Math.min(amount, eligible) };
}
