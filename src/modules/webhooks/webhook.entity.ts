import { ArrayType, Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';

/** The event types an endpoint may subscribe to (docs/webhooks.md describes each payload). */
export const WEBHOOK_EVENT_TYPES = [
  'order.created',
  'order.paid',
  'order.cancelled',
  'order.shipped',
  'order.refunded',
  'product.created',
  'product.updated',
  'product.deleted',
  'variant.stock_changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** pending: still to be sent (or retried); succeeded: a 2xx came back; failed: out of attempts; cancelled: its endpoint was disabled. */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A partner's URL and the events it wants, with the secret its deliveries are signed with. */
@Entity({ tableName: 'webhook_endpoints' })
export class WebhookEndpoint extends BaseEntity {
  @Property({ type: 'string', length: 2048 })
  url: string;

  @Property({ type: 'string', length: 255, default: '' })
  description: string & Opt = '';

  @Property({ type: ArrayType, columnType: 'text[]' })
  events: string[];

  @Property({ type: 'boolean', default: true })
  enabled: boolean & Opt = true;

  /** `whsec_` + base64 of 32 random bytes (Standard Webhooks); never listed, answered once. */
  @Property({ type: 'string', length: 100, lazy: true })
  secret: string;

  /** The secret before the last rotation: it still signs until `previousSecretExpiresAt`. */
  @Property({ type: 'string', length: 100, nullable: true, lazy: true })
  previousSecret: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  previousSecretExpiresAt: Date | null = null;

  /** Failed attempts in a row (a success resets it); at WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled. */
  @Property({ type: 'integer', default: 0 })
  failureStreak: number & Opt = 0;

  @Property({ type: 'string', length: 255, nullable: true })
  disabledReason: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  disabledAt: Date | null = null;

  constructor(url: string, events: string[], secret: string) {
    super();
    this.url = url;
    this.events = events;
    this.secret = secret;
  }
}

/** The outbox: one event, recorded in the transaction of the change, with its payload as sent. */
@Entity({ tableName: 'webhook_events' })
// Retention: the prune deletes events older than WEBHOOK_RETENTION_DAYS.
@Index({ name: 'webhook_events_created_at_index', properties: ['createdAt'] })
export class WebhookEvent {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 40 })
  type: string;

  /** `order` or `product` (variant.stock_changed belongs to its product): the unit of ordering. */
  @Property({ type: 'string', length: 20 })
  aggregateType: string;

  @Property({ type: 'integer' })
  aggregateId: number;

  /** The body sent: `{ type, timestamp, data }`. */
  @Property({ type: 'json', columnType: 'jsonb' })
  payload: object;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(type: string, aggregateType: string, aggregateId: number, payload: object) {
    this.type = type;
    this.aggregateType = aggregateType;
    this.aggregateId = aggregateId;
    this.payload = payload;
  }
}

/** One event for one endpoint: sent by the `webhooks.deliver` job, retried, logged attempt by attempt. */
@Entity({ tableName: 'webhook_deliveries' })
// An endpoint's delivery log, newest first.
@Index({ name: 'webhook_deliveries_endpoint_id_id_index', properties: ['endpoint', 'id'] })
// The log filtered by status; and the pending deliveries an endpoint's disabling cancels.
@Index({ name: 'webhook_deliveries_endpoint_id_status_id_index', properties: ['endpoint', 'status', 'id'] })
// The deliveries in flight to an endpoint (its concurrency limit): only those holding a lease.
@Index({
  name: 'webhook_deliveries_in_flight_index',
  expression: 'create index "webhook_deliveries_in_flight_index" on "webhook_deliveries" ("endpoint_id") where "lease_expires_at" is not null',
})
export class WebhookDelivery extends BaseEntity {
  @ManyToOne(() => WebhookEndpoint, { ref: true, deleteRule: 'cascade', index: false })
  endpoint: Ref<WebhookEndpoint>;

  // The prune deletes an event's deliveries with it (the cascade looks them up by event).
  @ManyToOne(() => WebhookEvent, { ref: true, deleteRule: 'cascade', index: 'webhook_deliveries_event_id_index' })
  event: Ref<WebhookEvent>;

  @Enum({ items: () => [...DELIVERY_STATUSES], default: 'pending' })
  status: DeliveryStatus & Opt = 'pending';

  @Property({ type: 'integer', default: 0 })
  attempts: number & Opt = 0;

  @Property({ type: 'integer', nullable: true })
  lastStatusCode: number | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastAttemptAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  deliveredAt: Date | null = null;

  /**
   * Set while an attempt is in flight (one of the endpoint's WEBHOOK_ENDPOINT_CONCURRENCY slots);
   * a worker killed mid-attempt leaves it to expire.
   */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  leaseExpiresAt: Date | null = null;

  constructor(endpointId: number, eventId: number) {
    super();
    this.endpoint = ref(WebhookEndpoint, endpointId);
    this.event = ref(WebhookEvent, eventId);
  }
}

/** One HTTP attempt of a delivery. */
@Entity({ tableName: 'webhook_attempts' })
export class WebhookAttempt {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  // A delivery's attempts, in order (its detail).
  @ManyToOne(() => WebhookDelivery, { ref: true, deleteRule: 'cascade', index: 'webhook_attempts_delivery_id_index' })
  delivery: Ref<WebhookDelivery>;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)' })
  at: Date;

  /** Null when no HTTP answer came (a timeout, a refused connection). */
  @Property({ type: 'integer', nullable: true })
  statusCode: number | null;

  @Property({ type: 'integer' })
  durationMs: number;

  @Property({ type: 'string', length: 500, nullable: true })
  error: string | null;

  /** The first KB of the answer's body. */
  @Property({ type: 'string', length: 1024, nullable: true })
  responseExcerpt: string | null;

  constructor(deliveryId: number, at: Date, result: { statusCode: number | null; durationMs: number; error: string | null; responseExcerpt: string | null }) {
    this.delivery = ref(WebhookDelivery, deliveryId);
    this.at = at;
    this.statusCode = result.statusCode;
    this.durationMs = result.durationMs;
    this.error = result.error;
    this.responseExcerpt = result.responseExcerpt;
  }
}
