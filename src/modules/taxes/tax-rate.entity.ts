import { Check, Entity, Enum, Index, type Opt, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { TAX_CLASSES, type TaxClass } from '../../shared/tax-classes';

/** The rate of a tax class in a country (region '') or one region of it, which then replaces the country's. */
@Entity({ tableName: 'tax_rates' })
// One rate per place and class; also the look-up of an address's rates.
@Index({ name: 'tax_rates_place_class_unique', expression: 'create unique index "tax_rates_place_class_unique" on "tax_rates" ("country", lower("region"), "tax_class")' })
@Check({ name: 'tax_rates_rate_check', expression: 'rate >= 0 and rate <= 100' })
@Check({ name: 'tax_rates_region_check', expression: 'region = btrim(region)' })
export class TaxRate extends BaseEntity {
  @Property({ type: 'string', length: 2 })
  country: string;

  @Property({ type: 'string', length: 100, default: '' })
  region: string & Opt = '';

  @Enum({ items: () => [...TAX_CLASSES], default: 'standard' })
  taxClass: TaxClass & Opt = 'standard';

  @Property({ type: 'string', length: 100, default: '' })
  name: string & Opt = '';

  /** Percent, three decimals ("20.000"). */
  @Property({ type: 'decimal', precision: 6, scale: 3 })
  rate: string;

  constructor(country: string, rate: string) {
    super();
    this.country = country;
    this.rate = rate;
  }
}
