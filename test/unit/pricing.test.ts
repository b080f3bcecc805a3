import { discountFor } from '../../src/modules/discounts/pricing';
import { fromMinor, moneyOut, normalizeMoney, toMinor } from '../../src/shared/money';
import { firstOf } from '../support/narrow';

describe('money', () => {
  it.each([
    ['19.9', '19.90'],
    ['7', '7.00'],
    ['0.05', '0.05'],
    ['0012.30', '12.30'],
  ])('normalises %s to %s', (a, b) => expect(normalizeMoney(a)).toBe(b));

  it('converts to and from minor units exactly', () => {
    expect(toMinor('19.99')).toBe(1999);
    expect(toMinor('0.1')).toBe(10);
    expect(fromMinor(1999)).toBe('19.99');
    expect(fromMinor(5)).toBe('0.05');
    expect(moneyOut('20')).toBe('20.00');
    // 0.1 + 0.2 in floats is 0.30000000000000004; in minor units it is exact.
    expect(fromMinor(toMinor('0.10') + toMinor('0.20'))).toBe('0.30');
    expect(() => fromMinor(-1)).toThrow();
  });
});

describe('discountFor', () => {
  const lines = [
    { productId: 1, lineTotal: 1999 },
    { productId: 2, lineTotal: 501 },
  ];

  it('takes a percentage of the whole cart, rounded half up to the cent', () => {
    expect(discountFor({ kind: 'percentage', value: '10.00', productIds: [] }, lines)).toEqual({ eligible: 2500, amount: 250 });
    // 12.5% of 19.99 = 2.49875 → 2.50
    expect(discountFor({ kind: 'percentage', value: '12.50', productIds: [] }, [firstOf(lines)]).amount).toBe(250);
    // 33.33% of 0.05 = 0.0166 → 0.02
    expect(discountFor({ kind: 'percentage', value: '33.33', productIds: [] }, [{ productId: 1, lineTotal: 5 }]).amount).toBe(2);
    // 15% of 0.10 = 0.015 → half up → 0.02
    expect(discountFor({ kind: 'percentage', value: '15', productIds: [] }, [{ productId: 1, lineTotal: 10 }]).amount).toBe(2);
    expect(discountFor({ kind: 'percentage', value: '100', productIds: [] }, lines).amount).toBe(2500);
  });

  it('limits a discount to its products', () => {
    expect(discountFor({ kind: 'percentage', value: '50', productIds: [2] }, lines)).toEqual({ eligible: 501, amount: 251 });
    expect(discountFor({ kind: 'fixed', value: '3.00', productIds: [3] }, lines)).toEqual({ eligible: 0, amount: 0 });
  });

  it('never takes more than the eligible amount: a total never goes negative', () => {
    expect(discountFor({ kind: 'fixed', value: '5.00', productIds: [] }, lines).amount).toBe(500);
    expect(discountFor({ kind: 'fixed', value: '100.00', productIds: [] }, lines).amount).toBe(2500);
    expect(discountFor({ kind: 'fixed', value: '100.00', productIds: [2] }, lines).amount).toBe(501);
  });
});
