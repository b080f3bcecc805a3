import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvents, EventMap } from '../shared/events';
import type { AccountsService } from '../modules/accounts';
import { type CheckoutEvents, type OrderEvent, orderMessage } from '../modules/checkout';
import type { JobQueue } from './queue';

/**
 * What jobs do when the contexts announce something, enqueued in the announcing transaction (so a
 * job exists exactly when the change commits): the buyer's e-mails about their orders, an order's
 * expiry at the end of its payment window, and giving back what a cancelled or refunded order's
 * payments reached.
 */
export function subscribeJobs<M extends CheckoutEvents & EventMap<M>>(events: DomainEvents<M, EntityManager>, jobs: JobQueue, accounts: Pick<AccountsService, 'contact'>): void {
  const mail = async (em: EntityManager, order: OrderEvent) => {
    // A guest's order mails the email it was placed with.
    const buyer = order.userId === null ? order.email && { email: order.email, name: order.email.split('@')[0]! } : await accounts.contact(em, order.userId);
    const message = buyer && orderMessage(order, buyer.name);
    if (buyer && message) await jobs.send(em, 'mail.send', { to: buyer.email, ...message });
  };
  events.on('order.placed', async (em, order) => {
    if (order.expiresAt) await jobs.send(em, 'orders.expire', { orderId: order.orderId }, { startAfter: order.expiresAt });
    await mail(em, order);
  });
  events.on('order.status_changed', mail);
  events.on('order.refund_due', async (em, order) => {
    await jobs.send(em, 'payments.refund-order', { orderId: order.orderId });
  });
  events.on('order.refund_requested', async (em, refund) => {
    await jobs.send(em, 'payments.refund', { refundId: refund.refundId });
  });
}
