import { Check, Collection, Entity, Index, ManyToOne, OneToMany, type Opt, PrimaryKey, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';

/** Where the shop ships: countries and regions with their own shipping methods. */
@Entity({ tableName: 'shipping_zones' })
export class ShippingZone extends BaseEntity {
  @Property({ type: 'string', length: 100 })
  name: string;

  /** Whether shipping to this zone is taxed (at the destination's standard rate). */
  @Property({ type: 'boolean', default: false })
  shippingTaxable: boolean & Opt = false;

  @OneToMany(() => ShippingZoneArea, (a) => a.zone, { orderBy: { country: 'asc', region: 'asc' } })
  areas = new Collection<ShippingZoneArea>(this);

  constructor(name: string) {
    super();
    this.name = name;
  }
}

/**
 * A country (region '') or one region of it, served by one zone. Regions compare without regard to
 * case or surrounding spaces (they are stored trimmed).
 */
@Entity({ tableName: 'shipping_zone_areas' })
// One zone per area; also finds the zone of an address (its region, else its whole country).
@Index({ name: 'shipping_zone_areas_area_unique', expression: 'create unique index "shipping_zone_areas_area_unique" on "shipping_zone_areas" ("country", lower("region"))' })
@Check({ name: 'shipping_zone_areas_region_check', expression: 'region = btrim(region)' })
export class ShippingZoneArea {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => ShippingZone, { ref: true, deleteRule: 'cascade', index: 'shipping_zone_areas_zone_id_index' })
  zone: Ref<ShippingZone>;

  @Property({ type: 'string', length: 2 })
  country: string;

  @Property({ type: 'string', length: 100, default: '' })
  region: string & Opt = '';

  constructor(zoneId: number, country: string, region: string) {
    this.zone = ref(ShippingZone, zoneId);
    this.country = country;
    this.region = region;
  }
}
