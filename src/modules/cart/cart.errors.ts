import { DomainError } from '../../shared/errors';

/** The cart's failures; codes are documented in the contract's responses. Stock refusals are the catalog's (INSUFFICIENT_STOCK). */
export const CartErrors = {
  itemNotFound: () => DomainError.notFound('The cart line'),
  unknownVariant: (id: number) => new DomainError('unprocessable', 'UNKNOWN_VARIANT', `Variant ${id} does not exist.`),
  variantUnavailable: (id: number) => new DomainError('unprocessable', 'VARIANT_UNAVAILABLE', `Variant ${id} is not for sale.`),
  quantityLimit: (max: number) => new DomainError('unprocessable', 'QUANTITY_LIMIT', `A cart line holds at most ${max} units.`),
  lineLimit: (max: number) => new DomainError('unprocessable', 'CART_LINE_LIMIT', `A cart holds at most ${max} lines.`),
  unknownAddress: (id: number) => new DomainError('unprocessable', 'UNKNOWN_ADDRESS', `Address ${id} is not in your address book.`),
  unknownShippingMethod: (id: number, address: number | null, country: string) =>
    new DomainError('unprocessable', 'UNKNOWN_SHIPPING_METHOD', `Shipping method ${id} does not ship to ${address === null ? country : `address ${address}`}.`),
  noShippingMethod: (address: number | null, country: string, region: string) =>
    new DomainError('unprocessable', 'NO_SHIPPING_METHOD', `Nothing ships to ${address === null ? '' : `address ${address} `}(${region ? `${region}, ` : ''}${country}).`),
  methodNeedsAddress: () => DomainError.invalid('query.shipping_method', 'shipping_method needs an address or a country to ship to.', 'VALIDATION_ERROR'),
  addressOrCountry: () => DomainError.invalid('query.country', 'Give either address or country, not both.', 'VALIDATION_ERROR'),
  placeNeeded: () => DomainError.invalid('query.address', 'address (or country) is required.', 'VALIDATION_ERROR'),
  regionNeedsCountry: () => DomainError.invalid('query.region', 'region needs a country.', 'VALIDATION_ERROR'),
  guestThrottled: (retryAfterSeconds: number) =>
    new DomainError('throttled', 'GUEST_THROTTLED', 'Too many guest carts or orders from this address; try again later.', {}, retryAfterSeconds),
  invalidCartToken: () => DomainError.unauthenticated('INVALID_CART_TOKEN', 'The cart token names no cart; create a guest cart again.'),
  totalLimit: (max: string) =>
    new DomainError('unprocessable', 'CART_TOTAL_LIMIT', `The cart's total would exceed ${max}, the most an order can hold.`, { max_total: max }),
};
