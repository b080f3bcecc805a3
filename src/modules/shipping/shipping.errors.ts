import { DomainError } from '../../shared/errors';

const invalid = (field: string, message: string) => DomainError.invalid(field, message, 'VALIDATION_ERROR');

/** Why a shipping zone or method is refused; every code is documented in the contract. */
export const ShippingErrors = {
  zoneNotFound: () => DomainError.notFound('The shipping zone'),
  methodNotFound: () => DomainError.notFound('The shipping method'),
  unknownZone: (id: number) => new DomainError('unprocessable', 'UNKNOWN_SHIPPING_ZONE', `Shipping zone ${id} does not exist.`),
  areaTaken: (taken?: { area: string; zoneId: number; zoneName: string }) =>
    new DomainError(
      'conflict',
      'AREA_TAKEN',
      taken ? `${taken.area} is already served by the zone ${taken.zoneName} (${taken.zoneId}).` : 'An area given is already served by another zone.',
    ),
  duplicateArea: (area: string) => invalid('body.areas', `${area} is given more than once.`),
  invalid,
};
