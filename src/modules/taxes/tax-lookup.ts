import type { EntityManager } from '@mikro-orm/postgresql';
import type { TaxClass } from '../../shared/tax-classes';
import { type RatesByClass, rateToThousandths } from './tax-calculation';

/** A place taxes are charged for: a country and the region an address names. */
export interface TaxPlace {
  country: string;
  region: string;
}

/** Which rates apply where (checkout and the cart ask). */
export class TaxLookup {
  /**
   * The rates at a place, by class: the region's rate of a class (regions compare without regard to
   * case or surrounding spaces), else the country's; a class with neither is not taxed there.
   */
  async ratesAt(em: EntityManager, place: TaxPlace): Promise<RatesByClass> {
    const rows = await em.execute<{ tax_class: TaxClass; rate: string; regional: boolean }[]>(
      `select tax_class, rate::text as rate, region <> '' as regional
         from tax_rates
        where country = ? and (region = '' or lower(region) = lower(btrim(?)))
        order by regional`,
      [place.country, place.region],
    );
    // Country rows first, so a region's row replaces its country's.
    return new Map(rows.map((r) => [r.tax_class, rateToThousandths(r.rate)]));
  }
}
