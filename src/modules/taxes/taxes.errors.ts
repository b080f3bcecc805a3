import { DomainError } from '../../shared/errors';

/** Why a tax rate is refused; every code is documented in the contract. */
export const TaxErrors = {
  notFound: () => DomainError.notFound('The tax rate'),
  rateExists: (place: { country: string; region: string; taxClass: string }, existing?: number) =>
    new DomainError(
      'conflict',
      'TAX_RATE_EXISTS',
      `A ${place.taxClass} rate for ${place.region ? `${place.region} (${place.country})` : place.country} exists already${existing === undefined ? '' : ` (tax rate ${existing})`}.`,
    ),
  rateAbove100: () => DomainError.invalid('body.rate', 'A tax rate is at most 100 (percent).', 'VALIDATION_ERROR'),
};
