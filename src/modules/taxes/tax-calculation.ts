/**
 * How an order's money adds up, in integer minor units (never a float):
 *
 * 1. Each line costs `unit price × quantity` (its line total); the subtotal is their sum.
 * 2. The discount is shared among the lines it applies to in proportion to their line totals, by
 *    largest remainder: the shares are whole cents and add up to the discount exactly (ties go to
 *    the earlier line). Discounts apply before tax.
 * 3. Each line is taxed on `line total - its share` at its class's rate at the destination,
 *    **rounded per line, half up** to the cent. Shipping is taxed the same way, at the standard
 *    rate, where its zone says shipping is taxable.
 * 4. Prices exclusive of tax: `total = subtotal - discount + shipping + tax`. Prices inclusive of
 *    tax: the tax is the part of each amount that is tax (`amount × rate / (100 + rate)`, rounded
 *    per line half up) and `total = subtotal - discount + shipping`.
 *
 * So a total always adds up to the cent from the amounts shown, and each line's tax can be checked
 * from that line alone.
 */
import type { TaxClass } from '../../shared/tax-classes';

/** Rates in thousandths of a percent (20.000% → 20000), by class, at one destination. */
export type RatesByClass = ReadonlyMap<TaxClass, number>;

export interface BasketLine {
  productId: number;
  /** Minor units: unit price × quantity. */
  lineTotal: number;
  taxClass: TaxClass;
}

export interface BasketDiscount {
  /** Minor units, at most the eligible lines' total. */
  amount: number;
  /** The products it applies to; empty: every line. */
  productIds: readonly number[];
}

export interface BasketShipping {
  /** Minor units. */
  price: number;
  taxable: boolean;
}

export interface PricedBasketLine {
  discount: number;
  /** Thousandths of a percent; null when no destination was given. */
  taxRate: number | null;
  /** Null when no destination was given. */
  tax: number | null;
  /** What the line costs: line total - discount (+ tax when prices exclude it; no destination: + 0). */
  total: number;
}

export interface BasketTotals {
  lines: PricedBasketLine[];
  subtotal: number;
  discount: number;
  shipping: number | null;
  shippingTax: number | null;
  tax: number | null;
  total: number;
}

const HUNDRED_PERCENT = 100_000n;

/** "20.000" or "8.875" (a numeric(6,3) or a contract rate) → 20000, 8875. */
export function rateToThousandths(rate: string): number {
  const [units = '0', fraction = ''] = rate.split('.');
  return Number(units) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
}

/** 20000 → "20.000". */
export function rateFromThousandths(rate: number): string {
  return `${Math.floor(rate / 1000)}.${String(rate % 1000).padStart(3, '0')}`;
}

/** A rate as stored or given ("20", "5.5", "8.875", a numeric(6,3) "20.000") in the wire format ("20.000"). */
export function rateOut(rate: string | number): string {
  return rateFromThousandths(rateToThousandths(String(rate)));
}

/** n / d rounded half up, for n >= 0 and d > 0. */
function divideHalfUp(n: bigint, d: bigint): number {
  return Number((2n * n + d) / (2n * d));
}

/** The tax on an amount (minor units) at a rate: on top of it, or the part of it that is tax. */
export function taxOn(amount: number, rate: number, included: boolean): number {
  if (amount === 0 || rate === 0) return 0;
  const a = BigInt(amount);
  const r = BigInt(rate);
  return included ? divideHalfUp(a * r, HUNDRED_PERCENT + r) : divideHalfUp(a * r, HUNDRED_PERCENT);
}

/**
 * Shares `amount` among `weights` in proportion, in whole units that add up to `amount` exactly
 * (largest remainder; equal remainders favour the earlier weight). All weights 0: nothing is shared.
 */
export function allocate(amount: number, weights: readonly number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  if (total === 0 || amount === 0) return weights.map(() => 0);
  const big = BigInt(amount);
  const bigTotal = BigInt(total);
  const shares = weights.map((w) => {
    const exact = big * BigInt(w);
    return { floor: Number(exact / bigTotal), remainder: exact % bigTotal };
  });
  let left = amount - shares.reduce((s, x) => s + x.floor, 0);
  const order = shares.map((_, i) => i).sort((a, b) => (shares[b]!.remainder > shares[a]!.remainder ? 1 : shares[b]!.remainder < shares[a]!.remainder ? -1 : a - b));
  const result = shares.map((s) => s.floor);
  for (const i of order) {
    if (left === 0) break;
    result[i]! += 1;
    left -= 1;
  }
  return result;
}

/**
 * Prices a basket: shares the discount, taxes each line and the shipping, adds up the total. With no
 * rates (no destination yet), taxes are null and count as 0; with no shipping, it is null and 0.
 */
export function priceBasket(input: {
  lines: readonly BasketLine[];
  discount: BasketDiscount | null;
  shipping: BasketShipping | null;
  rates: RatesByClass | null;
  taxesIncluded: boolean;
}): BasketTotals {
  const { lines, discount, shipping, rates, taxesIncluded } = input;
  const eligible = (l: BasketLine) => discount !== null && (discount.productIds.length === 0 || discount.productIds.includes(l.productId));
  const shares = allocate(discount?.amount ?? 0, lines.map((l) => (eligible(l) ? l.lineTotal : 0)));
  const rateOf = (c: TaxClass) => (c === 'zero' ? 0 : (rates?.get(c) ?? 0));
  const priced = lines.map((l, i): PricedBasketLine => {
    const share = shares[i]!;
    const base = l.lineTotal - share;
    if (!rates) return { discount: share, taxRate: null, tax: null, total: base };
    const taxRate = rateOf(l.taxClass);
    const tax = taxOn(base, taxRate, taxesIncluded);
    return { discount: share, taxRate, tax, total: taxesIncluded ? base : base + tax };
  });
  const subtotal = lines.reduce((s, l) => s + l.lineTotal, 0);
  const discountTotal = shares.reduce((s, x) => s + x, 0);
  const shippingPrice = shipping?.price ?? null;
  const shippingTax = shipping && rates ? (shipping.taxable ? taxOn(shipping.price, rateOf('standard'), taxesIncluded) : 0) : null;
  const tax = rates ? priced.reduce((s, l) => s + (l.tax ?? 0), 0) + (shippingTax ?? 0) : null;
  const total = subtotal - discountTotal + (shippingPrice ?? 0) + (taxesIncluded ? 0 : (tax ?? 0));
  return { lines: priced, subtotal, discount: discountTotal, shipping: shippingPrice, shippingTax, tax, total };
}
