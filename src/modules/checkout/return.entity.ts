import { Check, Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { Order, OrderItem } from './order.entity';
import { Payment } from './payment.entity';
import { REFUND_STATUSES, RETURN_STATUSES, type RefundStatus, type ReturnStatus } from './states';

/**
 * A buyer's return of some units of a delivered order's lines. Its value (`amount`) is what the
 * buyer paid for those units, snapshotted per line when it is requested (`returnedValue`).
 */
@Entity({ tableName: 'returns' })
// An order's returns, newest first.
@Index({ name: 'returns_order_created_idx', properties: ['order', 'createdAt', 'id'] })
// The admin list filtered by status, newest first.
@Index({ name: 'returns_status_created_idx', properties: ['status', 'createdAt', 'id'] })
@Index({ name: 'returns_created_idx', properties: ['createdAt', 'id'] })
@Check({ name: 'returns_amount_check', expression: 'amount >= 0' })
export class OrderReturn extends BaseEntity {
  @ManyToOne(() => Order, { ref: true, deleteRule: 'restrict' })
  order: Ref<Order>;

  @ManyToOne(() => User, { ref: true, deleteRule: 'restrict', index: 'returns_user_id_index' })
  user: Ref<User>;

  @Enum({ items: () => [...RETURN_STATUSES], default: 'requested' })
  status: ReturnStatus & Opt = 'requested';

  @Property({ type: 'string', length: 1000 })
  reason: string;

  /** The value of the returned units: the sum of its lines' `amount`. */
  @Property({ type: 'decimal', precision: 12, scale: 2 })
  amount: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  approvedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  rejectedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  receivedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  refundedAt: Date | null = null;

  constructor(orderId: number, userId: number, reason: string, amount: string) {
    super();
    this.order = ref(Order, orderId);
    this.user = ref(User, userId);
    this.reason = reason;
    this.amount = amount;
  }
}

/** Units of one order line in a return, with what the buyer paid for them. */
@Entity({ tableName: 'return_items' })
@Unique({ name: 'return_items_return_order_item_unique', properties: ['orderReturn', 'orderItem'] })
@Check({ name: 'return_items_quantity_check', expression: 'quantity > 0 and amount >= 0' })
export class ReturnItem {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => OrderReturn, { ref: true, deleteRule: 'cascade', fieldName: 'return_id' })
  orderReturn: Ref<OrderReturn>;

  @ManyToOne(() => OrderItem, { ref: true, deleteRule: 'restrict', index: 'return_items_order_item_id_index' })
  orderItem: Ref<OrderItem>;

  @Property({ type: 'integer' })
  quantity: number;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  amount: string;

  constructor(returnId: number, orderItemId: number, quantity: number, amount: string) {
    this.orderReturn = ref(OrderReturn, returnId);
    this.orderItem = ref(OrderItem, orderItemId);
    this.quantity = quantity;
    this.amount = amount;
  }
}

/**
 * Money given back from an order's payment, in part or whole. Recorded (with its job) before the
 * provider is called, and keyed at the provider by its id (`refundKey`), so a retried job or a crash
 * never refunds twice.
 */
@Entity({ tableName: 'refunds' })
@Index({ name: 'refunds_order_id_index', properties: ['order', 'id'] })
@Check({ name: 'refunds_amount_check', expression: 'amount > 0' })
export class Refund extends BaseEntity {
  @ManyToOne(() => Order, { ref: true, deleteRule: 'restrict' })
  order: Ref<Order>;

  @ManyToOne(() => Payment, { ref: true, deleteRule: 'restrict', index: 'refunds_payment_id_index' })
  payment: Ref<Payment>;

  @ManyToOne(() => OrderReturn, { ref: true, nullable: true, deleteRule: 'set null', fieldName: 'return_id', index: 'refunds_return_id_index' })
  orderReturn: Ref<OrderReturn> | null = null;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  amount: string;

  @Property({ type: 'string', length: 3 })
  currency: string;

  @Enum({ items: () => [...REFUND_STATUSES], default: 'requested' })
  status: RefundStatus & Opt = 'requested';

  @Property({ type: 'string', length: 100, nullable: true })
  providerReference: string | null = null;

  @Property({ type: 'string', length: 60, nullable: true })
  failureCode: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  succeededAt: Date | null = null;

  constructor(orderId: number, paymentId: number, returnId: number | null, amount: string, currency: string) {
    super();
    this.order = ref(Order, orderId);
    this.payment = ref(Payment, paymentId);
    this.orderReturn = returnId === null ? null : ref(OrderReturn, returnId);
    this.amount = amount;
    this.currency = currency;
  }
}

/** The provider's idempotency key for a refund: the same refund is never made twice. */
export function refundKey(refundId: number): string {
  return `refund-${refundId}`;
}
