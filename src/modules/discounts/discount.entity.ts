import { Check, Collection, Entity, Enum, Index, ManyToMany, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref, rel } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { Product } from '../catalog/product.entity';

const DISCOUNT_KINDS = ['percentage', 'fixed'] as const;
export type DiscountKind = (typeof DISCOUNT_KINDS)[number];

/** A coupon code: a percentage or a fixed amount off, with optional limits. */
@Entity({ tableName: 'discounts' })
// Codes are looked up regardless of case; also enforces case-insensitive uniqueness.
@Index({ name: 'discounts_code_lower_unique', expression: 'create unique index "discounts_code_lower_unique" on "discounts" (lower("code"))' })
@Check({ name: 'discounts_value_check', expression: "value > 0 and (kind <> 'percentage' or value <= 100)" })
@Check({ name: 'discounts_usage_check', expression: 'times_used >= 0 and (max_uses is null or times_used <= max_uses)' })
export class Discount extends BaseEntity {
  @Property({ type: 'string', length: 40 })
  code: string;

  @Property({ type: 'string', length: 500, default: '' })
  description: string & Opt = '';

  @Enum({ items: () => [...DISCOUNT_KINDS] })
  kind: DiscountKind;

  /** A percentage (0.01-100.00) or an amount in the store currency. */
  @Property({ type: 'decimal', precision: 12, scale: 2 })
  value: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  validFrom: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  validTo: Date | null = null;

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  @Property({ type: 'decimal', precision: 12, scale: 2, nullable: true })
  minSubtotal: string | null = null;

  @Property({ type: 'integer', nullable: true })
  maxUses: number | null = null;

  @Property({ type: 'integer', nullable: true })
  maxUsesPerUser: number | null = null;

  /** Redemptions so far; incremented by a conditional update, so a limit is never exceeded. */
  @Property({ type: 'integer', default: 0 })
  timesUsed: number & Opt = 0;

  /** The products it is limited to (the brief's "product discounts"); none means the whole cart. */
  @ManyToMany(() => Product, undefined, { pivotTable: 'discount_products', joinColumn: 'discount_id', inverseJoinColumn: 'product_id' })
  products = new Collection<Product>(this);

  constructor(code: string, kind: DiscountKind, value: string) {
    super();
    this.code = code;
    this.kind = kind;
    this.value = value;
  }

  /** Limits the discount to these products (none: the whole cart). */
  limitTo(productIds: readonly number[]): void {
    this.products.set(productIds.map((id) => rel(Product, id)));
  }
}

/** One use of a discount by an order. */
@Entity({ tableName: 'discount_redemptions' })
// Per-user limits count a user's redemptions of a discount.
@Index({ name: 'discount_redemptions_discount_user_idx', properties: ['discount', 'user'] })
export class DiscountRedemption {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Discount, { ref: true, deleteRule: 'restrict' })
  discount: Ref<Discount>;

  /** The buyer; null for a guest's order (guests may only use codes without a per-user limit). */
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'restrict', index: 'discount_redemptions_user_id_index' })
  user: Ref<User> | null;

  /** One redemption per order (the order module owns the foreign key, see the migration). */
  @Property({ type: 'integer', unique: 'discount_redemptions_order_id_unique' })
  orderId: number;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  amount: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(discountId: number, userId: number | null, orderId: number, amount: string) {
    this.discount = ref(Discount, discountId);
    this.user = userId === null ? null : ref(User, userId);
    this.orderId = orderId;
    this.amount = amount;
  }
}
