import { DomainError } from '../../shared/errors';

export const ORDER_STATUSES = ['pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const PAYMENT_STATUSES = ['unpaid', 'pending', 'paid', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The order state machine: every transition is checked here and nowhere else. */
const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['paid', 'cancelled'],
  paid: ['shipped', 'refunded'],
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  cancelled: [],
  refunded: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export function invalidTransition(from: string, to: string, what = 'order'): DomainError {
  return new DomainError('conflict', 'INVALID_TRANSITION', `An ${what} cannot go from ${from} to ${to}.`, { from, to });
}

/** Throws 409 INVALID_TRANSITION unless the state machine allows `from` → `to`. */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw invalidTransition(from, to);
}

export const SHIPMENT_STATUSES = ['pending', 'shipped', 'in_transit', 'delivered', 'returned'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

const SHIPMENT_TRANSITIONS: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  pending: ['shipped'],
  shipped: ['in_transit', 'delivered', 'returned'],
  in_transit: ['delivered', 'returned'],
  delivered: [],
  returned: [],
};

/** Throws 409 INVALID_TRANSITION unless a shipment may go from `from` to `to`. */
export function assertShipmentTransition(from: ShipmentStatus, to: ShipmentStatus): void {
  if (!SHIPMENT_TRANSITIONS[from].includes(to)) throw invalidTransition(from, to, 'shipment');
}
