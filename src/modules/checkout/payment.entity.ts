import { Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { Order } from './order.entity';

export const PAYMENT_METHODS = ['card', 'mobile'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const PAYMENT_ATTEMPT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export type PaymentAttemptStatus = (typeof PAYMENT_ATTEMPT_STATUSES)[number];

/**
 * One payment attempt for an order; the amount is the order's total, never the client's. It is
 * recorded before the provider is called, and the charge is keyed by its id (`chargeKey`), so the
 * provider never charges one attempt twice and can always be asked what became of it.
 */
@Entity({ tableName: 'payments' })
// An order's payments, newest first.
@Index({ name: 'payments_order_id_index', properties: ['order', 'id'] })
// payments.reconcile: the payments still pending, oldest change first.
@Index({ name: 'payments_pending_idx', expression: `create index "payments_pending_idx" on "payments" ("updated_at") where "status" = 'pending'` })
// At most one live (pending or succeeded) payment per order: nothing is ever charged twice.
@Index({ name: 'payments_one_live_per_order', expression: `create unique index "payments_one_live_per_order" on "payments" ("order_id") where "status" in ('pending', 'succeeded')` })
export class Payment extends BaseEntity {
  @ManyToOne(() => Order, { ref: true, deleteRule: 'restrict' })
  order: Ref<Order>;

  @Enum({ items: () => [...PAYMENT_METHODS] })
  method: PaymentMethod;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  amount: string;

  @Property({ type: 'string', length: 3 })
  currency: string;

  @Enum({ items: () => [...PAYMENT_ATTEMPT_STATUSES], default: 'pending' })
  status: PaymentAttemptStatus & Opt = 'pending';

  /**
   * Whether the provider's answer to the charge is recorded. False from the moment the attempt is
   * recorded until then: while the call runs, and for good if the process dies during it or the
   * call fails, until reconciliation asks the provider (the outcome is unknown meanwhile).
   */
  @Property({ type: 'boolean', default: false })
  providerAnswered: boolean & Opt = false;

  @Property({ type: 'string', length: 20 })
  provider: string;

  /** The provider's id for this payment; webhooks name it. */
  @Property({ type: 'string', length: 100, nullable: true, unique: 'payments_provider_reference_unique' })
  providerReference: string | null = null;

  @Property({ type: 'string', length: 60, nullable: true })
  failureCode: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  succeededAt: Date | null = null;

  constructor(orderId: number, method: PaymentMethod, amount: string, currency: string, provider: string) {
    super();
    this.order = ref(Order, orderId);
    this.method = method;
    this.amount = amount;
    this.currency = currency;
    this.provider = provider;
  }
}

/** The provider's idempotency key for a payment's charge: the same attempt is never charged twice. */
export function chargeKey(paymentId: number): string {
  return `payment-${paymentId}`;
}

/** A provider event already processed: a repeated delivery changes nothing. */
@Entity({ tableName: 'payment_events' })
export class PaymentEvent {
  @PrimaryKey({ type: 'string', length: 100 })
  id: string;

  @Property({ type: 'string', length: 40 })
  type: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  receivedAt: Date & Opt = new Date();

  constructor(id: string, type: string) {
    this.id = id;
    this.type = type;
  }
}
