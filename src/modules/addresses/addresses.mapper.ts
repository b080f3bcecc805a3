import type { components } from '../../../generated/openapi';
import type { Address } from './address.entity';

export function toAddressDto(a: Address): components['schemas']['Address'] {
  return {
    id: a.id,
    kind: a.kind,
    recipient_name: a.recipientName,
    phone: a.phone,
    line1: a.line1,
    line2: a.line2,
    city: a.city,
    region: a.region,
    postal_code: a.postalCode,
    country: a.country,
    is_default: a.isDefault,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}
