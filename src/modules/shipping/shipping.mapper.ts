import type { components } from '../../../generated/openapi';
import { moneyOut } from '../../shared/money';
import { toIso } from '../../shared/time';
import type { ShippingMethod } from './shipping-method.entity';
import type { ShippingZone } from './shipping-zone.entity';

export function toShippingZoneDto(z: ShippingZone): components['schemas']['ShippingZone'] {
  return {
    id: z.id,
    name: z.name,
    areas: z.areas.isInitialized() ? z.areas.getItems().map((a) => ({ country: a.country, region: a.region })) : [],
    shipping_taxable: z.shippingTaxable,
    created_at: toIso(z.createdAt),
    updated_at: toIso(z.updatedAt),
  };
}

export function toShippingMethodDto(m: ShippingMethod): components['schemas']['ShippingMethod'] {
  return {
    id: m.id,
    zone: m.zone.id,
    name: m.name,
    carrier: m.carrier,
    delivery_days_min: m.deliveryDaysMin,
    delivery_days_max: m.deliveryDaysMax,
    rate_type: m.rateType,
    flat_price: m.flatPrice === null ? null : moneyOut(m.flatPrice),
    subtotal_tiers: m.subtotalTiers.map((t) => ({ min_subtotal: moneyOut(t.min_subtotal), price: moneyOut(t.price) })),
    weight_tiers: m.weightTiers.map((t) => ({ min_weight_grams: t.min_weight_grams, price: moneyOut(t.price) })),
    free_above: m.freeAbove === null ? null : moneyOut(m.freeAbove),
    is_active: m.isActive,
    created_at: toIso(m.createdAt),
    updated_at: toIso(m.updatedAt),
  };
}
