import type { components } from '../../../generated/openapi';
import { fromMinor, moneyOut, toMinor } from '../../shared/money';
import type { CartView } from './cart.service';

export function toCartDto(cart: CartView, currency: string): components['schemas']['Cart'] {
  return {
    id: cart.id,
    items: cart.lines.map((l) => ({
      id: l.id,
      variant: l.variant,
      product: l.product,
      unit_price: moneyOut(l.unitPrice),
      added_unit_price: moneyOut(l.addedUnitPrice),
      price_changed: toMinor(l.unitPrice) !== toMinor(l.addedUnitPrice),
      quantity: l.quantity,
      line_total: fromMinor(l.lineTotal),
      available: l.available,
      problem: l.problem,
    })),
    item_count: cart.itemCount,
    subtotal: fromMinor(cart.subtotal),
    discount: fromMinor(cart.discount),
    total: fromMinor(cart.subtotal - cart.discount),
    currency,
    coupon: cart.couponCode,
    coupon_problem: cart.couponProblem,
    updated_at: cart.updatedAt.toISOString(),
  };
}
