/**
 * Webhooks: partners' endpoints and the events delivered to them (Standard Webhooks). Owns
 * `webhook_endpoints`, `webhook_events` (the outbox), `webhook_deliveries` and `webhook_attempts`.
 * Listens to the other contexts' events (`subscribeWebhooks`) and records, in the same transaction,
 * what the `webhooks.deliver` job then sends.
 */
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhook.entity';

/** The entities this context maps. */
export const webhooksEntities = [WebhookEndpoint, WebhookEvent, WebhookDelivery, WebhookAttempt];
export { WEBHOOK_EVENT_TYPES, DELIVERY_STATUSES, type WebhookEventType, type DeliveryStatus } from './webhook.entity';
export { webhooksHandlers, type WebhooksDeps } from './webhooks.handlers';
export { WebhooksRepository } from './webhooks.repository';
export { WebhooksService, newSecret, type DeliveryQueue, type DeliveryOutcome, type WebhookSettings } from './webhooks.service';
export { subscribeWebhooks, orderData, productData, type WebhookSourceEvents } from './webhooks.subscriptions';
