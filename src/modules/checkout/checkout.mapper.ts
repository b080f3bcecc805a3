import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import { rateOut } from '../taxes';
import type { Order } from './order.entity';
import type { OrderDetail } from './orders.service';
import type { Payment } from './payment.entity';
import type { Shipment } from './shipment.entity';

export function toOrderDto({ order: o, items, shipment }: OrderDetail): components['schemas']['Order'] {
  return {
    id: o.id,
    user: o.user?.id ?? null,
    email: o.guestEmail,
    status: o.status,
    payment_status: o.paymentStatus,
    items: items.map((i) => ({
      id: i.id,
      product: i.product.id,
      variant: i.variant.id,
      product_name: i.productName,
      variant_name: i.variantName,
      sku: i.sku,
      unit_price: moneyOut(i.unitPrice),
      quantity: i.quantity,
      line_total: moneyOut(i.lineTotal),
      discount: moneyOut(i.discount),
      tax_rate: rateOut(i.taxRate),
      tax: moneyOut(i.tax),
      total: moneyOut(i.total),
    })),
    shipping_address: {
      recipient_name: o.shipRecipientName,
      phone: o.shipPhone,
      line1: o.shipLine1,
      line2: o.shipLine2,
      city: o.shipCity,
      region: o.shipRegion,
      postal_code: o.shipPostalCode,
      country: o.shipCountry,
    },
    shipping_method:
      o.shippingMethodId === null
        ? null
        : { id: o.shippingMethodId, name: o.shippingMethodName ?? '', carrier: o.shippingCarrier, delivery_days_min: o.shippingDaysMin, delivery_days_max: o.shippingDaysMax },
    coupon: o.couponCode,
    subtotal: moneyOut(o.subtotal),
    discount: moneyOut(o.discount),
    shipping: moneyOut(o.shipping),
    tax: moneyOut(o.tax),
    total: moneyOut(o.total),
    taxes_included: o.taxesIncluded,
    refunded_total: moneyOut(o.refundedTotal),
    currency: o.currency,
    shipment: shipment ? toShipmentDto(shipment) : null,
    expires_at: o.expiresAt?.toISOString() ?? null,
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
    paid_at: o.paidAt?.toISOString() ?? null,
    cancelled_at: o.cancelledAt?.toISOString() ?? null,
  };
}

export function toOrderSummaryDto(o: Order, itemCount: number): components['schemas']['OrderSummary'] {
  return {
    id: o.id,
    user: o.user?.id ?? null,
    status: o.status,
    payment_status: o.paymentStatus,
    item_count: itemCount,
    total: moneyOut(o.total),
    currency: o.currency,
    created_at: o.createdAt.toISOString(),
  };
}

export function toPaymentDto(p: Payment): components['schemas']['Payment'] {
  return {
    id: p.id,
    order: p.order.id,
    method: p.method,
    amount: moneyOut(p.amount),
    currency: p.currency,
    status: p.status,
    provider_answered: p.providerAnswered,
    provider: p.provider,
    provider_reference: p.providerReference,
    failure_code: p.failureCode,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    succeeded_at: p.succeededAt?.toISOString() ?? null,
  };
}

export function toPaymentStatusDto(order: Order, payments: Payment[]): components['schemas']['PaymentStatusReport'] {
  return {
    order: order.id,
    order_status: order.status,
    payment_status: order.paymentStatus,
    amount_due: order.status === 'pending_payment' ? moneyOut(order.total) : '0.00',
    currency: order.currency,
    payments: payments.map(toPaymentDto),
  };
}

export function toShipmentDto(s: Shipment): components['schemas']['Shipment'] {
  return {
    id: s.id,
    order: s.order.id,
    carrier: s.carrier,
    tracking_number: s.trackingNumber,
    status: s.status,
    shipped_at: s.shippedAt?.toISOString() ?? null,
    delivered_at: s.deliveredAt?.toISOString() ?? null,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}
