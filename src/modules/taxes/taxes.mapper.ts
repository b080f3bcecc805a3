import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import { rateOut } from './tax-calculation';
import type { TaxRate } from './tax-rate.entity';

export function toTaxRateDto(r: TaxRate): components['schemas']['TaxRate'] {
  return {
    id: r.id,
    country: r.country,
    region: r.region,
    tax_class: r.taxClass,
    name: r.name,
    rate: rateOut(r.rate),
    created_at: toIso(r.createdAt),
    updated_at: toIso(r.updatedAt),
  };
}
