import { DomainError } from '../../shared/errors';

export const CartErrors = {
  itemNotFound: () => DomainError.notFound('The cart line'),
  unknownVariant: (id: number) => new DomainError('unprocessable', 'UNKNOWN_VARIANT', `Variant ${id} does not exist.`),
  variantUnavailable: (id: number) => new DomainError('unprocessable', 'VARIANT_UNAVAILABLE', `Variant ${id} is not for sale.`),
  quantityLimit: (max: number) => new DomainError('unprocessable', 'QUANTITY_LIMIT', `A cart line holds at most ${max} units.`),
  insufficientStock: (variant: number, available: number) =>
    new DomainError('conflict', 'INSUFFICIENT_STOCK', `Only ${available} unit(s) of variant ${variant} are in stock.`, { available, variant }),
};
