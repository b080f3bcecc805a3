import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventPublisher } from '../../shared/events';
import type { Order } from './order.entity';
import type { OrderStatus, PaymentStatus } from './states';

/** An order as its events carry it: what a listener needs without reading checkout's tables. */
export interface OrderEvent {
  orderId: number;
  /** The buyer's account; null for a guest's order (see `email`). */
  userId: number | null;
  /** A guest's email (null for an account's order). */
  email: string | null;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  /** A decimal string, in `currency`. */
  total: string;
  /** What was given back so far (a decimal string). */
  refundedTotal: string;
  currency: string;
  /** Unpaid past this moment, the order is cancelled. */
  expiresAt: Date | null;
  createdAt: Date;
}

/** What checkout announces, published inside the transaction that makes the change. */
export interface CheckoutEvents {
  'order.placed': OrderEvent;
  'order.status_changed': OrderEvent & { from: OrderStatus };
  /**
   * Whatever the order's payments reached must go back: a charge still pending is voided, one that
   * succeeded is refunded (the order was cancelled or expired while a payment was under way, a
   * charge succeeded after the order was cancelled, or a returned shipment refunded the order).
   */
  'order.refund_due': OrderEvent;
  /** A partial (or whole) refund of the order's payment was recorded: the provider must make it (a job). */
  'order.refund_requested': { refundId: number; orderId: number };
  /** The provider gave money back (a return's refund, or a paid order's payment refunded): `amount`, a decimal string. */
  'order.refunded': OrderEvent & { amount: string };
}

export type CheckoutPublisher = EventPublisher<CheckoutEvents, EntityManager>;

export function orderEvent(order: Order): OrderEvent {
  return {
    orderId: order.id,
    userId: order.user?.id ?? null,
    email: order.guestEmail,
    status: order.status,
    paymentStatus: order.paymentStatus,
    total: order.total,
    refundedTotal: order.refundedTotal,
    currency: order.currency,
    expiresAt: order.expiresAt,
    createdAt: order.createdAt,
  };
}
