import type { EntityManager } from '@mikro-orm/postgresql';
import type { ShippingRateType, SubtotalTier, WeightTier } from './shipping-method.entity';
import { type ShippingBasket, shippingPrice } from './shipping-rates';

/** Where a parcel goes: a country and the region an address names. */
export interface ShippingPlace {
  country: string;
  region: string;
}

/** A method serving a place, priced for a basket (minor units). */
export interface ShippingQuote {
  id: number;
  name: string;
  carrier: string;
  deliveryDaysMin: number | null;
  deliveryDaysMax: number | null;
  price: number;
  /** Whether the zone taxes shipping. */
  taxable: boolean;
}

type MethodRow = {
  id: number;
  name: string;
  carrier: string;
  delivery_days_min: number | null;
  delivery_days_max: number | null;
  rate_type: ShippingRateType;
  flat_price: string | null;
  subtotal_tiers: SubtotalTier[];
  weight_tiers: WeightTier[];
  free_above: string | null;
  shipping_taxable: boolean;
};

/** What ships where, at what price (the cart and checkout ask). */
export class ShippingOptions {
  /**
   * The active methods serving a place, each priced for the basket, cheapest first (ties: lowest
   * id). The place is served by the zone naming its region (without regard to case or surrounding
   * spaces), else by the zone naming its whole country; none: nothing ships there.
   */
  async quotes(em: EntityManager, place: ShippingPlace, basket: ShippingBasket): Promise<ShippingQuote[]> {
    const rows = await em.execute<MethodRow[]>(
      `with zone as (
         select a.zone_id from shipping_zone_areas a
          where a.country = ? and (a.region = '' or lower(a.region) = lower(btrim(?)))
          order by a.region = '' limit 1)
       select m.id, m.name, m.carrier, m.delivery_days_min, m.delivery_days_max, m.rate_type, m.flat_price::text as flat_price,
              m.subtotal_tiers, m.weight_tiers, m.free_above::text as free_above, z.shipping_taxable
         from zone join shipping_methods m on m.zone_id = zone.zone_id join shipping_zones z on z.id = zone.zone_id
        where m.is_active`,
      [place.country, place.region],
    );
    return rows
      .map((r) => ({
        id: r.id,
        name: r.name,
        carrier: r.carrier,
        deliveryDaysMin: r.delivery_days_min,
        deliveryDaysMax: r.delivery_days_max,
        taxable: r.shipping_taxable,
        price: shippingPrice(
          { rateType: r.rate_type, flatPrice: r.flat_price, subtotalTiers: r.subtotal_tiers, weightTiers: r.weight_tiers, freeAbove: r.free_above },
          basket,
        ),
      }))
      .sort((a, b) => a.price - b.price || a.id - b.id);
  }
}
