import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import { toShipmentDto } from '../shipments/shipments.mapper';
import type { Order } from './order.entity';
import type { OrderDetail } from './orders.service';

export function toOrderDto({ order: o, items, shipment }: OrderDetail): components['schemas']['Order'] {
  return {
    id: o.id,
    user: o.user.id,
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
    coupon: o.couponCode,
    subtotal: moneyOut(o.subtotal),
    discount: moneyOut(o.discount),
    total: moneyOut(o.total),
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
    user: o.user.id,
    status: o.status,
    payment_status: o.paymentStatus,
    item_count: itemCount,
    total: moneyOut(o.total),
    currency: o.currency,
    created_at: o.createdAt.toISOString(),
  };
}
