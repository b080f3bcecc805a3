import { Check, Entity, Enum, ManyToOne, type Opt, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { ShippingZone } from './shipping-zone.entity';

export const SHIPPING_RATE_TYPES = ['flat', 'subtotal', 'weight'] as const;
export type ShippingRateType = (typeof SHIPPING_RATE_TYPES)[number];

/** From `min_subtotal` (after discount) up, the price is `price` (decimal strings). */
export interface SubtotalTier {
  min_subtotal: string;
  price: string;
}

/** From `min_weight_grams` up, the price is `price`. */
export interface WeightTier {
  min_weight_grams: number;
  price: string;
}

/** A way to ship to a zone and how it is priced: flat, by subtotal tiers or by weight tiers. */
@Entity({ tableName: 'shipping_methods' })
@Check({ name: 'shipping_methods_rate_check', expression: "(rate_type = 'flat') = (flat_price is not null)" })
@Check({ name: 'shipping_methods_days_check', expression: 'delivery_days_min is null or delivery_days_max is null or delivery_days_min <= delivery_days_max' })
export class ShippingMethod extends BaseEntity {
  @ManyToOne(() => ShippingZone, { ref: true, deleteRule: 'cascade', index: 'shipping_methods_zone_id_index' })
  zone: Ref<ShippingZone>;

  @Property({ type: 'string', length: 100 })
  name: string;

  @Property({ type: 'string', length: 100, default: '' })
  carrier: string & Opt = '';

  @Property({ type: 'integer', nullable: true })
  deliveryDaysMin: number | null = null;

  @Property({ type: 'integer', nullable: true })
  deliveryDaysMax: number | null = null;

  @Enum({ items: () => [...SHIPPING_RATE_TYPES] })
  rateType: ShippingRateType;

  @Property({ type: 'decimal', precision: 12, scale: 2, nullable: true })
  flatPrice: string | null = null;

  /** Ascending, the first from 0.00 (a `subtotal` method's; else empty). */
  @Property({ type: 'json', default: '[]' })
  subtotalTiers: SubtotalTier[] & Opt = [];

  /** Ascending, the first from 0 g (a `weight` method's; else empty). */
  @Property({ type: 'json', default: '[]' })
  weightTiers: WeightTier[] & Opt = [];

  /** From this subtotal (after discount) up, shipping is free. */
  @Property({ type: 'decimal', precision: 12, scale: 2, nullable: true })
  freeAbove: string | null = null;

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  constructor(zoneId: number, name: string, rateType: ShippingRateType) {
    super();
    this.zone = ref(ShippingZone, zoneId);
    this.name = name;
    this.rateType = rateType;
  }
}
