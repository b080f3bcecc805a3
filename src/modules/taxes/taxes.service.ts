import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import type { Listing, PagePicker } from '../../shared/paging';
import { rateFromThousandths, rateToThousandths } from './tax-calculation';
import { TaxRate } from './tax-rate.entity';
import { TaxErrors } from './taxes.errors';
import type { TaxesRepository } from './taxes.repository';

export type TaxRateInput = components['schemas']['TaxRateCreate'];
export type TaxRatePatch = components['schemas']['TaxRateUpdate'];

/** "20" → "20.000", "8.9" → "8.900" (the contract checked the pattern); above 100 is a 400. */
export function normalizeRate(rate: string): string {
  const thousandths = rateToThousandths(rate);
  if (thousandths > 100_000) throw TaxErrors.rateAbove100();
  return rateFromThousandths(thousandths);
}

/** Tax rates administration: one rate per country, region (regardless of case) and tax class. */
export class TaxesService {
  constructor(private readonly rates: TaxesRepository) {}

  list(em: EntityManager, filter: { country?: string }, pick: PagePicker): Promise<Listing<TaxRate>> {
    return this.rates.list(em, filter, pick);
  }

  async get(em: EntityManager, id: number): Promise<TaxRate> {
    const rate = await this.rates.byId(em, id);
    if (!rate) throw TaxErrors.notFound();
    return rate;
  }

  async create(em: EntityManager, input: TaxRateInput): Promise<TaxRate> {
    const rate = new TaxRate(input.country, normalizeRate(input.rate));
    rate.region = (input.region ?? '').trim();
    if (input.tax_class !== undefined) rate.taxClass = input.tax_class;
    if (input.name !== undefined) rate.name = input.name;
    const place = { country: rate.country, region: rate.region, taxClass: rate.taxClass };
    const existing = await this.rates.idOf(em, place);
    if (existing !== undefined) throw TaxErrors.rateExists(place, existing);
    em.persist(rate);
    // Two concurrent creates: the unique index refuses the second.
    await refuseViolations(() => em.flush(), { unique: () => TaxErrors.rateExists(place) });
    return rate;
  }

  async update(em: EntityManager, id: number, patch: TaxRatePatch): Promise<TaxRate> {
    const rate = await this.get(em, id);
    const value = patch.rate === undefined ? undefined : normalizeRate(patch.rate);
    if (value !== undefined) rate.rate = value;
    if (patch.name !== undefined) rate.name = patch.name;
    await em.flush();
    return rate;
  }

  async delete(em: EntityManager, id: number): Promise<void> {
    if (!(await this.rates.exists(em, id))) throw TaxErrors.notFound();
    await this.rates.delete(em, id);
  }
}
