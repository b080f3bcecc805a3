import { moneyOut } from '../../shared/money';
import type { OrderEvent } from './checkout.events';
import type { OrderStatus } from './states';

const SUBJECTS: Partial<Record<OrderStatus, (o: OrderEvent) => string>> = {
  pending_payment: (o) => `Order #${o.orderId} received`,
  paid: (o) => `Order #${o.orderId} is paid`,
  shipped: (o) => `Order #${o.orderId} has shipped`,
  delivered: (o) => `Order #${o.orderId} was delivered`,
  cancelled: (o) => `Order #${o.orderId} was cancelled`,
  refunded: (o) => `Order #${o.orderId} was refunded`,
};

/** The message that tells a buyer (greeted by `name`) about an order in its current state, or undefined when there is nothing to tell. */
export function orderMessage(order: OrderEvent, name: string): { subject: string; text: string } | undefined {
  const subject = SUBJECTS[order.status];
  if (!subject) return undefined;
  const lines = [`Hello ${name},`, ''];
  switch (order.status) {
    case 'pending_payment':
      lines.push(`We received your order #${order.orderId} for ${moneyOut(order.total)} ${order.currency}.`);
      if (order.expiresAt) lines.push(`Please pay before ${order.expiresAt.toISOString()}; after that it is cancelled.`);
      break;
    case 'cancelled':
      lines.push(`Your order #${order.orderId} was cancelled and nothing was charged.`);
      break;
    default:
      lines.push(`Your order #${order.orderId} is now ${order.status.replace('_', ' ')}.`);
  }
  return { subject: subject(order), text: lines.join('\n') };
}
