import { DomainError } from '../../shared/errors';

export const OrderErrors = {
  notFound: () => DomainError.notFound('The order'),
  cartEmpty: () => new DomainError('conflict', 'CART_EMPTY', 'The cart is empty (was the order already placed?).'),
  cartHasUnavailableItems: (items: number[]) =>
    new DomainError('conflict', 'CART_HAS_UNAVAILABLE_ITEMS', 'Some cart lines can no longer be bought; remove them first.', { items }),
  unknownAddress: (id: number) => new DomainError('unprocessable', 'UNKNOWN_ADDRESS', `Address ${id} is not in your address book.`),
  idempotencyConflict: () =>
    new DomainError('conflict', 'IDEMPOTENCY_CONFLICT', 'A request with this Idempotency-Key is still being processed; retry later.'),
  idempotencyKeyReused: () =>
    new DomainError('unprocessable', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.'),
  userFilterForbidden: () => new DomainError('forbidden', 'FORBIDDEN', 'Only admins may list other users’ orders.'),
};
