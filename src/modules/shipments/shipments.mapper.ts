import type { components } from '../../../generated/openapi';
import type { Shipment } from './shipment.entity';

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
