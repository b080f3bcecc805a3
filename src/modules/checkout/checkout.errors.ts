import { DomainError } from '../../shared/errors';

/** Checkout's failures (orders, payments, shipments); codes are documented in the contract's responses. */
export const CheckoutErrors = {
  orderNotFound: () => DomainError.notFound('The order'),
  shipmentNotFound: () => DomainError.notFound('The shipment'),
  cartEmpty: () => new DomainError('conflict', 'CART_EMPTY', 'The cart is empty (was the order already placed?).'),
  cartHasUnavailableItems: (items: number[]) =>
    new DomainError('conflict', 'CART_HAS_UNAVAILABLE_ITEMS', 'Some cart lines can no longer be bought; remove them first.', { items }),
  unknownAddress: (id: number) => new DomainError('unprocessable', 'UNKNOWN_ADDRESS', `Address ${id} is not in your address book.`),
  idempotencyConflict: () =>
    new DomainError('conflict', 'IDEMPOTENCY_CONFLICT', 'A request with this Idempotency-Key is still being processed; retry later.'),
  idempotencyKeyReused: () =>
    new DomainError('unprocessable', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.'),
  userFilterForbidden: () => new DomainError('forbidden', 'FORBIDDEN', 'Only admins may list other users’ orders.'),
  invalidTransition: (from: string, to: string, what: 'order' | 'order payment' | 'shipment' | 'return') =>
    new DomainError('conflict', 'INVALID_TRANSITION', `An ${what} cannot go from ${from} to ${to}.`, { from, to }),
  notPayable: (status: string) => new DomainError('conflict', 'ORDER_NOT_PAYABLE', `The order is ${status}; only orders waiting for payment can be paid.`),
  cardTokenRequired: () =>
    new DomainError('unprocessable', 'CARD_TOKEN_REQUIRED', 'A card payment needs a card_token.', { errors: [{ field: 'body.card_token', message: 'is required for card payments' }] }),
  phoneRequired: () =>
    new DomainError('unprocessable', 'PHONE_REQUIRED', 'A mobile payment needs a phone number.', { errors: [{ field: 'body.phone', message: 'is required for mobile payments' }] }),
  invalidSignature: () => new DomainError('invalid', 'INVALID_SIGNATURE', 'The webhook signature is missing, wrong or too old.'),
  returnNotFound: () => DomainError.notFound('The return'),
  orderNotDelivered: (status: string) =>
    new DomainError('conflict', 'ORDER_NOT_DELIVERED', `The order is ${status}; only delivered orders can be returned.`, { order_status: status }),
  returnWindowClosed: (days: number) =>
    new DomainError('unprocessable', 'RETURN_WINDOW_CLOSED', `Orders can be returned up to ${days} day(s) after delivery.`, { return_window_days: days }),
  unknownOrderItem: (ids: number[]) =>
    new DomainError('unprocessable', 'UNKNOWN_ORDER_ITEM', `Order item(s) ${ids.join(', ')} are not lines of this order.`, { items: ids }),
  returnQuantityExceeded: (orderItem: number, available: number) =>
    new DomainError('unprocessable', 'RETURN_QUANTITY_EXCEEDED', `Only ${available} unit(s) of order item ${orderItem} can still be returned.`, {
      order_item: orderItem,
      available,
    }),
  duplicateReturnLine: (index: number) => DomainError.invalid(`body.items.${index}.order_item`, 'names an order item another line of this request names'),
  refundAmountZero: () => DomainError.invalid('body.amount', 'must be more than 0.00'),
  refundExceedsPaid: (refundable: string) =>
    new DomainError('unprocessable', 'REFUND_EXCEEDS_PAID', `At most ${refundable} of what the order's payment took can still be refunded.`, { refundable }),
  shipmentExists: () => new DomainError('conflict', 'SHIPMENT_EXISTS', 'The order already has a shipment; update it instead.'),
  guestThrottled: (retryAfterSeconds: number) =>
    new DomainError('throttled', 'GUEST_THROTTLED', 'Too many guest carts or orders from this address; try again later.', {}, retryAfterSeconds),
  lookupThrottled: (retryAfterSeconds: number) => new DomainError('throttled', 'LOOKUP_THROTTLED', 'Too many failed order look-ups; try again later.', {}, retryAfterSeconds),
};
