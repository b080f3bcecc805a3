import { CheckoutErrors } from './checkout.errors';

/**
 * Checkout's state machines, every transition table in one place: an order's own status, its
 * payment status, its shipment's status, and its returns' statuses. The services check each change here and nowhere else.
 */
export const ORDER_STATUSES = ['pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const PAYMENT_STATUSES = ['unpaid', 'pending', 'paid', 'failed', 'partially_refunded', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const SHIPMENT_STATUSES = ['pending', 'shipped', 'in_transit', 'delivered', 'returned'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];
export const RETURN_STATUSES = ['requested', 'approved', 'rejected', 'received', 'refunded'] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];
export const REFUND_STATUSES = ['requested', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['paid', 'cancelled'],
  paid: ['shipped', 'refunded'],
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  cancelled: [],
  refunded: [],
};

/**
 * An order's payment status: a payment starts, fails (another may start) or succeeds; money paid may
 * go back, in part (returns: `partially_refunded`, until the refunds reach what was paid) or whole.
 * A payment still pending when its order is cancelled ends failed (voided) or, if it had succeeded
 * meanwhile, refunded. A partial refund the provider refused gives its amount back to the order
 * (refunded → partially_refunded or paid, partially_refunded → paid).
 */
const PAYMENT_TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  unpaid: ['pending'],
  pending: ['paid', 'failed', 'refunded'],
  failed: ['pending'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['refunded', 'paid'],
  refunded: ['partially_refunded', 'paid'],
};

const SHIPMENT_TRANSITIONS: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  pending: ['shipped'],
  shipped: ['in_transit', 'delivered', 'returned'],
  in_transit: ['delivered', 'returned'],
  delivered: [],
  returned: [],
};

/**
 * A return: the buyer asks, an admin approves or rejects it, receives the goods (restocked) and
 * refunds them (the refund is then requested at the provider). A refund the provider refused puts
 * the return back to received, so it can be refunded again.
 */
const RETURN_TRANSITIONS: Record<ReturnStatus, readonly ReturnStatus[]> = {
  requested: ['approved', 'rejected'],
  approved: ['received'],
  rejected: [],
  received: ['refunded'],
  refunded: ['received'],
};

/** Throws 409 INVALID_TRANSITION unless an order may go from `from` to `to`. */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!ORDER_TRANSITIONS[from].includes(to)) throw CheckoutErrors.invalidTransition(from, to, 'order');
}

/** Throws 409 INVALID_TRANSITION unless an order's payment status may go from `from` to `to`. */
export function assertPaymentTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!PAYMENT_TRANSITIONS[from].includes(to)) throw CheckoutErrors.invalidTransition(from, to, 'order payment');
}

/** Throws 409 INVALID_TRANSITION unless a return may go from `from` to `to`. */
export function assertReturnTransition(from: ReturnStatus, to: ReturnStatus): void {
  if (!RETURN_TRANSITIONS[from].includes(to)) throw CheckoutErrors.invalidTransition(from, to, 'return');
}

/** Throws 409 INVALID_TRANSITION unless a shipment may go from `from` to `to`. */
export function assertShipmentTransition(from: ShipmentStatus, to: ShipmentStatus): void {
  if (!SHIPMENT_TRANSITIONS[from].includes(to)) throw CheckoutErrors.invalidTransition(from, to, 'shipment');
}
