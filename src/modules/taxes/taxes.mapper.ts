import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import type { TaxRate } from './tax-rate.entity';

/** A numeric from PostgreSQL ("20", "20.5", "20.000") in the wire format ("20.000"). */
export function rateOut(value: string | number): string {
  const [units = '0', decimals = ''] = String(value).split('.');
  return `${BigInt(units).toString()}.${decimals.padEnd(3, '0').slice(0, 3)}`;
}

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
