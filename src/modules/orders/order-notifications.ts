import type { EntityManager } from '@mikro-orm/postgresql';
import type { JobQueue } from '../../jobs/queue';
import { moneyOut } from '../../shared/money';
import { User } from '../accounts/user.entity';
import type { OrderStatus } from './order-state';
import type { Order } from './order.entity';
import type { OrderEvents } from './orders.service';

const SUBJECTS: Partial<Record<OrderStatus, (o: Order) => string>> = {
  pending_payment: (o) => `Order #${o.id} received`,
  paid: (o) => `Order #${o.id} is paid`,
  shipped: (o) => `Order #${o.id} has shipped`,
  delivered: (o) => `Order #${o.id} was delivered`,
  cancelled: (o) => `Order #${o.id} was cancelled`,
  refunded: (o) => `Order #${o.id} was refunded`,
};

function body(order: Order, name: string): string {
  const lines = [`Hello ${name},`, ''];
  switch (order.status) {
    case 'pending_payment':
      lines.push(`We received your order #${order.id} for ${moneyOut(order.total)} ${order.currency}.`);
      if (order.expiresAt) lines.push(`Please pay before ${order.expiresAt.toISOString()}; after that it is cancelled.`);
      break;
    case 'cancelled':
      lines.push(`Your order #${order.id} was cancelled and nothing was charged.`);
      break;
    default:
      lines.push(`Your order #${order.id} is now ${order.status.replace('_', ' ')}.`);
  }
  return lines.join('\n');
}

/**
 * What happens around an order besides its own rows, enqueued as jobs in the same transaction (so
 * they exist exactly when the change commits): the buyer's e-mails, and the order's expiry at the
 * end of its payment window.
 */
export function orderJobs(jobs: JobQueue): OrderEvents {
  const mail = async (em: EntityManager, order: Order) => {
    const subject = SUBJECTS[order.status as OrderStatus];
    if (!subject) return;
    const user = await em.findOneOrFail(User, order.user.id);
    await jobs.send(em, 'mail.send', { to: user.email, subject: subject(order), text: body(order, user.firstName || user.username) });
  };
  return {
    async placed(em, order) {
      if (order.expiresAt) await jobs.send(em, 'orders.expire', { orderId: order.id }, { startAfter: order.expiresAt });
      await mail(em, order);
    },
    async statusChanged(em, order) {
      await mail(em, order);
    },
  };
}
