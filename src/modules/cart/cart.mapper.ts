import type { components } from '../../../generated/openapi';
import { fromMinor, moneyOut, toMinor } from '../../shared/money';
import type { ShippingQuote } from '../shipping';
import { rateFromThousandths } from '../taxes';
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
      discount: fromMinor(l.discount),
      tax_rate: l.taxRate === null ? null : rateFromThousandths(l.taxRate),
      tax: l.tax === null ? null : fromMinor(l.tax),
      available: l.available,
      problem: l.problem,
    })),
    item_count: cart.itemCount,
    subtotal: fromMinor(cart.subtotal),
    discount: fromMinor(cart.discount),
    shipping: cart.shipping === null ? null : fromMinor(cart.shipping),
    tax: cart.tax === null ? null : fromMinor(cart.tax),
    total: fromMinor(cart.total),
    taxes_included: cart.taxesIncluded,
    currency,
    coupon: cart.couponCode,
    coupon_problem: cart.couponProblem,
    shipping_address: cart.shippingAddressId,
    shipping_method: cart.shippingMethod && toShippingOptionDto(cart.shippingMethod),
    updated_at: cart.updatedAt.toISOString(),
  };
}

export function toShippingOptionDto(q: ShippingQuote): components['schemas']['ShippingOption'] {
  return {
    id: q.id,
    name: q.name,
    carrier: q.carrier,
    delivery_days_min: q.deliveryDaysMin,
    delivery_days_max: q.deliveryDaysMax,
    price: fromMinor(q.price),
  };
}
