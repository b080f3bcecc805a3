import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventPublisher } from '../../shared/events';
import type { Order } from './order.entity';
import type { OrderStatus } from './states';

/** An order as its events carry it: what a listener needs without reading checkout's tables. */
export interface OrderEvent {
  orderId: number;
  /** The buyer's account; null for a guest's order (see `email`). */
  userId: number | null;
  /** A guest's email (null for an account's order). */
  email: string | null;
  status: OrderStatus;
  /** A decimal string, in `currency`. */
  total: string;
  currency: string;
  /** Unpaid past this moment, the order is cancelled. */
  expiresAt: Date | null;
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
}

export type CheckoutPublisher = EventPublisher<CheckoutEvents, EntityManager>;

export function orderEvent(order: Order): OrderEvent {
  return { orderId: order.id, userId: order.user?.id ?? null, email: order.guestEmail, status: order.status, total: order.total, currency: order.currency, expiresAt: order.expiresAt };
}
