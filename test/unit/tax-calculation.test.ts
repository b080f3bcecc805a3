import { shippingPrice } from '../../src/modules/shipping/shipping-rates';
import { allocate, type BasketLine, priceBasket, rateFromThousandths, rateToThousandths, taxOn } from '../../src/modules/taxes';
import type { TaxClass } from '../../src/shared/tax-classes';

/** A small seeded generator (mulberry32), so a failing cart can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tax rates', () => {
  it('reads and writes percentages with three decimals', () => {
    expect(rateToThousandths('20.000')).toBe(20_000);
    expect(rateToThousandths('8.875')).toBe(8_875);
    expect(rateToThousandths('5.5')).toBe(5_500);
    expect(rateToThousandths('0')).toBe(0);
    expect(rateToThousandths('100')).toBe(100_000);
    expect(rateFromThousandths(8_875)).toBe('8.875');
    expect(rateFromThousandths(20_000)).toBe('20.000');
    expect(rateFromThousandths(0)).toBe('0.000');
  });

  it('rounds each tax half up to the cent, on top of a price or inside it', () => {
    expect(taxOn(16_182, 20_000, false)).toBe(3_236); // 32.364 → 32.36
    expect(taxOn(25, 10_000, false)).toBe(3); // 0.025 → 0.03 (half up, not to even)
    expect(taxOn(35, 10_000, false)).toBe(4); // 0.035 → 0.04
    expect(taxOn(14, 10_000, false)).toBe(1); // 0.014 → 0.01
    expect(taxOn(12_000, 20_000, true)).toBe(2_000); // 120.00 including 20%: 20.00 of it is tax
    expect(taxOn(1_000, 8_875, true)).toBe(82); // 10.00 × 8.875 / 108.875 = 0.8151...
    expect(taxOn(0, 20_000, false)).toBe(0);
    expect(taxOn(999_999_999_999, 100_000, false)).toBe(999_999_999_999); // exact past 2^53 intermediates
  });
});

describe('sharing a discount among lines', () => {
  it('gives whole cents in proportion, adding up to the discount exactly', () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]); // ties: the earlier line
    expect(allocate(1_798, [17_980])).toEqual([1_798]);
    expect(allocate(500, [1_000, 0, 3_000])).toEqual([125, 0, 375]);
    expect(allocate(0, [5, 5])).toEqual([0, 0]);
    expect(allocate(7, [0, 0])).toEqual([0, 0]);
    expect(allocate(10, [3, 3, 4])).toEqual([3, 3, 4]);
    expect(allocate(1, [2, 3])).toEqual([0, 1]); // 0.4 vs 0.6: the larger remainder
  });
});

describe('a method\'s shipping price', () => {
  const base = { flatPrice: null, subtotalTiers: [], weightTiers: [], freeAbove: null };
  it('is flat, or the highest tier reached, or free from the threshold', () => {
    expect(shippingPrice({ ...base, rateType: 'flat', flatPrice: '4.90' }, { goods: 1_000, weightGrams: 0 })).toBe(490);
    const tiers = { ...base, rateType: 'subtotal' as const, subtotalTiers: [{ min_subtotal: '0.00', price: '6.90' }, { min_subtotal: '50.00', price: '3.90' }], freeAbove: '100.00' };
    expect(shippingPrice(tiers, { goods: 4_999, weightGrams: 0 })).toBe(690);
    expect(shippingPrice(tiers, { goods: 5_000, weightGrams: 0 })).toBe(390);
    expect(shippingPrice(tiers, { goods: 9_999, weightGrams: 0 })).toBe(390);
    expect(shippingPrice(tiers, { goods: 10_000, weightGrams: 0 })).toBe(0);
    const weight = { ...base, rateType: 'weight' as const, weightTiers: [{ min_weight_grams: 0, price: '5.00' }, { min_weight_grams: 2_000, price: '9.00' }] };
    expect(shippingPrice(weight, { goods: 100_000, weightGrams: 1_999 })).toBe(500);
    expect(shippingPrice(weight, { goods: 100_000, weightGrams: 2_000 })).toBe(900);
  });
});

describe('a basket\'s totals', () => {
  const rates = new Map<TaxClass, number>([
    ['standard', 20_000],
    ['reduced', 5_500],
  ]);

  it('prices the documented example: 10% off, 20% VAT on the goods and the shipping', () => {
    const totals = priceBasket({
      lines: [{ productId: 7, lineTotal: 17_980, taxClass: 'standard' }],
      discount: { amount: 1_798, productIds: [] },
      shipping: { price: 490, taxable: true },
      rates,
      taxesIncluded: false,
    });
    expect(totals).toEqual({
      lines: [{ discount: 1_798, taxRate: 20_000, tax: 3_236, total: 19_418 }],
      subtotal: 17_980,
      discount: 1_798,
      shipping: 490,
      shippingTax: 98,
      tax: 3_334,
      total: 20_006,
    });
  });

  it('leaves tax and shipping null without a destination, and zero-rated classes untaxed', () => {
    const lines: BasketLine[] = [
      { productId: 1, lineTotal: 1_000, taxClass: 'standard' },
      { productId: 2, lineTotal: 1_000, taxClass: 'zero' },
    ];
    const none = priceBasket({ lines, discount: null, shipping: null, rates: null, taxesIncluded: false });
    expect(none).toMatchObject({ tax: null, shipping: null, shippingTax: null, total: 2_000 });
    expect(none.lines.map((l) => l.tax)).toEqual([null, null]);
    const there = priceBasket({ lines, discount: null, shipping: { price: 500, taxable: false }, rates, taxesIncluded: false });
    expect(there.lines.map((l) => [l.taxRate, l.tax])).toEqual([
      [20_000, 200],
      [0, 0],
    ]);
    expect(there).toMatchObject({ shippingTax: 0, tax: 200, total: 2_700 });
  });

  it('shares a product-limited discount among the lines it applies to only', () => {
    const totals = priceBasket({
      lines: [
        { productId: 1, lineTotal: 3_000, taxClass: 'standard' },
        { productId: 2, lineTotal: 1_000, taxClass: 'standard' },
      ],
      discount: { amount: 500, productIds: [2] },
      shipping: null,
      rates,
      taxesIncluded: false,
    });
    expect(totals.lines.map((l) => l.discount)).toEqual([0, 500]);
    expect(totals.lines.map((l) => l.tax)).toEqual([600, 100]);
  });

  it.each([false, true])('adds up to the cent for 5,000 random carts (taxes included: %s)', (taxesIncluded) => {
    const next = random(taxesIncluded ? 2 : 1);
    const int = (max: number) => Math.floor(next() * (max + 1));
    const classes: TaxClass[] = ['standard', 'reduced', 'zero'];
    for (let cart = 0; cart < 5_000; cart++) {
      const lines: BasketLine[] = Array.from({ length: 1 + int(9) }, () => ({
        productId: 1 + int(4),
        lineTotal: (1 + int(99_999)) * (1 + int(20)),
        taxClass: classes[int(2)]!,
      }));
      const subtotal = lines.reduce((s, l) => s + l.lineTotal, 0);
      const limited = int(1) === 1 ? [1 + int(4)] : [];
      const eligible = lines.filter((l) => limited.length === 0 || limited.includes(l.productId)).reduce((s, l) => s + l.lineTotal, 0);
      const discount = int(2) === 0 ? null : { amount: int(eligible), productIds: limited };
      const cartRates = new Map<TaxClass, number>([
        ['standard', int(30_000)],
        ['reduced', int(10_000)],
      ]);
      const shipping = int(3) === 0 ? null : { price: int(5_000), taxable: int(1) === 1 };
      const t = priceBasket({ lines, discount, shipping, rates: cartRates, taxesIncluded });
      const where = `cart ${cart}: ${JSON.stringify({ lines, discount, shipping, rates: [...cartRates], t })}`;

      // The totals add up exactly from the amounts shown.
      expect([where, t.subtotal]).toEqual([where, subtotal]);
      expect([where, t.discount]).toEqual([where, discount?.amount ?? 0]);
      const linesTax = t.lines.reduce((s, l) => s + l.tax!, 0);
      expect([where, t.tax]).toEqual([where, linesTax + (t.shippingTax ?? 0)]);
      const expected = t.subtotal - t.discount + (t.shipping ?? 0) + (taxesIncluded ? 0 : t.tax!);
      expect([where, t.total]).toEqual([where, expected]);
      // So do the lines: shares add up to the discount, never exceed their line, and each line's
      // tax is its own rate on its own amount.
      expect([where, t.lines.reduce((s, l) => s + l.discount, 0)]).toEqual([where, t.discount]);
      for (const [i, l] of t.lines.entries()) {
        const line = lines[i]!;
        const base = line.lineTotal - l.discount;
        expect(base).toBeGreaterThanOrEqual(0);
        const rate = line.taxClass === 'zero' ? 0 : cartRates.get(line.taxClass)!;
        expect([where, l.taxRate, l.tax, l.total]).toEqual([where, rate, taxOn(base, rate, taxesIncluded), taxesIncluded ? base : base + l.tax!]);
        // A share is its exact proportion, rounded down or up (never further off).
        const exact = discount && (limited.length === 0 || limited.includes(line.productId)) ? (discount.amount * line.lineTotal) / eligible : 0;
        expect(Math.abs(l.discount - exact)).toBeLessThan(1);
      }
      expect(t.lines.reduce((s, l) => s + l.total, 0) + (t.shipping ?? 0) + (taxesIncluded ? 0 : (t.shippingTax ?? 0))).toBe(t.total);
    }
  });
});
