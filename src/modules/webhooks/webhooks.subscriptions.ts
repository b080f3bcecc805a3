import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvents } from '../../shared/events';
import { moneyOut } from '../../shared/money';
import type { CatalogEvents, ProductEvent } from '../catalog';
import type { CheckoutEvents, OrderEvent } from '../checkout';
import type { WebhookEventType } from './webhook.entity';
import type { WebhooksService } from './webhooks.service';

/** The events the webhooks listen to. */
export type WebhookSourceEvents = CheckoutEvents & CatalogEvents;

/** An order's payload (`data`): a snapshot at the event, in the order.* schemas of the contract's `webhooks:`. */
export function orderData(o: OrderEvent): Record<string, unknown> {
  return {
    id: o.orderId,
    status: o.status,
    payment_status: o.paymentStatus,
    total: moneyOut(o.total),
    refunded_total: moneyOut(o.refundedTotal),
    currency: o.currency,
    user_id: o.userId,
    email: o.email,
    created_at: o.createdAt.toISOString(),
  };
}

/** A product's payload (`data`) for product.created and product.updated. */
export function productData(p: ProductEvent, currency: string): Record<string, unknown> {
  return {
    id: p.productId,
    name: p.name,
    slug: p.slug,
    sku: p.sku,
    price: moneyOut(p.price),
    currency,
    is_active: p.isActive,
    category: p.categoryId,
    vendor: p.vendorId,
    stock: p.stock,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

/** The order statuses a webhook event exists for. */
const STATUS_EVENTS: Partial<Record<OrderEvent['status'], WebhookEventType>> = {
  paid: 'order.paid',
  cancelled: 'order.cancelled',
  shipped: 'order.shipped',
};

/**
 * Turns the contexts' events into webhook events, recorded in the publisher's transaction: an event
 * exists exactly when the change commits. Orders and products are the aggregates (a variant's stock
 * belongs to its product): deliveries of one aggregate to one endpoint keep their order.
 */
export function subscribeWebhooks(events: DomainEvents<WebhookSourceEvents, EntityManager>, webhooks: WebhooksService, currency: string): void {
  const order = (o: OrderEvent) => ({ type: 'order' as const, id: o.orderId });
  events.on('order.placed', (tx, o) => webhooks.record(tx, 'order.created', order(o), orderData(o)).then(() => undefined));
  events.on('order.status_changed', async (tx, o) => {
    const type = STATUS_EVENTS[o.status];
    if (type) await webhooks.record(tx, type, order(o), orderData(o));
  });
  events.on('order.refunded', async (tx, o) => {
    await webhooks.record(tx, 'order.refunded', order(o), { ...orderData(o), amount: moneyOut(o.amount) });
  });
  events.on('product.created', async (tx, p) => {
    await webhooks.record(tx, 'product.created', { type: 'product', id: p.productId }, productData(p, currency));
  });
  events.on('product.updated', async (tx, p) => {
    await webhooks.record(tx, 'product.updated', { type: 'product', id: p.productId }, productData(p, currency));
  });
  events.on('product.deleted', async (tx, p) => {
    await webhooks.record(tx, 'product.deleted', { type: 'product', id: p.productId }, { id: p.productId });
  });
  events.on('variant.stock_changed', async (tx, s) => {
    await webhooks.record(
      tx,
      'variant.stock_changed',
      { type: 'product', id: s.productId },
      { variant_id: s.variantId, product_id: s.productId, sku: s.sku, stock: s.stock, previous_stock: s.previousStock },
    );
  });
}
