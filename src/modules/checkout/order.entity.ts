import { Check, Collection, Entity, Enum, Index, ManyToOne, OneToMany, type Opt, PrimaryKey, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { Address } from '../addresses/address.entity';
import { ProductVariant } from '../catalog/product-variant.entity';
import { Product } from '../catalog/product.entity';
import { Discount } from '../discounts/discount.entity';
import { fromMinor } from '../../shared/money';
import { ORDER_STATUSES, type OrderStatus, PAYMENT_STATUSES, type PaymentStatus } from './states';

/** A shipping method as an order keeps it. */
export interface ShippingChoice {
  id: number;
  name: string;
  carrier: string;
  deliveryDaysMin: number | null;
  deliveryDaysMax: number | null;
}

/** An order placed from a cart: price, name and address snapshots keep its history intact. */
@Entity({ tableName: 'orders' })
// A buyer's orders, newest first.
@Index({ name: 'orders_user_created_idx', properties: ['user', 'createdAt', 'id'] })
// The admin list filtered by status, newest first.
@Index({ name: 'orders_status_created_idx', properties: ['status', 'createdAt', 'id'] })
// The expiry job finds unpaid orders past their deadline.
@Index({ name: 'orders_pending_expiry_idx', expression: `create index "orders_pending_expiry_idx" on "orders" ("expires_at") where "status" = 'pending_payment'` })
// Claiming a guest's orders finds them by email (case-insensitive) among orders no account holds.
@Index({ name: 'orders_guest_email_idx', expression: `create index "orders_guest_email_idx" on "orders" (lower("guest_email")) where "user_id" is null` })
// An order has a buyer: an account, or a guest's email.
@Check({ name: 'orders_buyer_check', expression: 'user_id is not null or guest_email is not null' })
@Check({ name: 'orders_refunded_total_check', expression: 'refunded_total >= 0 and refunded_total <= total' })
@Check({
  name: 'orders_totals_check',
  expression: 'subtotal >= 0 and discount >= 0 and shipping >= 0 and tax >= 0 and total >= 0 and total = subtotal - discount + shipping + (case when taxes_included then 0 else tax end)',
})
export class Order extends BaseEntity {
  /** The buyer's account; null for a guest's order until an account claims it. */
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'restrict' })
  user: Ref<User> | null;

  /** The email a guest checked out with (kept when an account claims the order). */
  @Property({ type: 'string', length: 254, nullable: true })
  guestEmail: string | null = null;

  /** The SHA-256 of the guest's cart token: that token reads, cancels and pays the order (cleared when claimed). */
  @Property({ type: 'string', length: 64, nullable: true })
  guestTokenHash: string | null = null;

  @Enum({ items: () => [...ORDER_STATUSES], default: 'pending_payment' })
  status: OrderStatus & Opt = 'pending_payment';

  @Enum({ items: () => [...PAYMENT_STATUSES], default: 'unpaid' })
  paymentStatus: PaymentStatus & Opt = 'unpaid';

  @Property({ type: 'string', length: 3 })
  currency: string;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  subtotal: string;

  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  discount: string & Opt = '0.00';

  /** What shipping costs (tax included when prices include tax). */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  shipping: string & Opt = '0.00';

  /** The tax on the lines and the shipping: added to the total, or the part of it that is tax. */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  tax: string & Opt = '0.00';

  /** Of `tax`, the part on shipping. */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  shippingTax: string & Opt = '0.00';

  /** Whether prices (subtotal, discount, shipping) include tax: the store's setting when it was placed. */
  @Property({ type: 'boolean', default: false })
  taxesIncluded: boolean & Opt = false;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  total: string;

  /** What has gone back to the buyer (refunds requested or made; a refused one is taken off again). */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  refundedTotal: string & Opt = '0.00';

  @Property({ type: 'string', length: 40, nullable: true })
  couponCode: string | null = null;

  /** The method chosen; its copy below is what counts (the method may change or go). */
  @Property({ type: 'integer', nullable: true, fieldName: 'shipping_method_id' })
  shippingMethodId: number | null = null;

  /** The method's name when the order was placed (null: placed before shipping methods existed). */
  @Property({ type: 'string', length: 100, nullable: true })
  shippingMethodName: string | null = null;

  @Property({ type: 'string', length: 100, default: '' })
  shippingCarrier: string & Opt = '';

  @Property({ type: 'integer', nullable: true })
  shippingDaysMin: number | null = null;

  @Property({ type: 'integer', nullable: true })
  shippingDaysMax: number | null = null;

  @ManyToOne(() => Discount, { ref: true, nullable: true, deleteRule: 'restrict', index: 'orders_discount_id_index', fieldName: 'discount_id' })
  discountRef: Ref<Discount> | null = null;

  /** The address book entry it was shipped to; the snapshot below is what counts. */
  @ManyToOne(() => Address, { ref: true, nullable: true, deleteRule: 'set null', index: 'orders_shipping_address_id_index' })
  shippingAddress: Ref<Address> | null = null;

  @Property({ type: 'string', length: 150 })
  shipRecipientName!: string;

  @Property({ type: 'string', length: 20, nullable: true })
  shipPhone: string | null = null;

  @Property({ type: 'string', length: 200 })
  shipLine1!: string;

  @Property({ type: 'string', length: 200, default: '' })
  shipLine2: string & Opt = '';

  @Property({ type: 'string', length: 100 })
  shipCity!: string;

  @Property({ type: 'string', length: 100, default: '' })
  shipRegion: string & Opt = '';

  @Property({ type: 'string', length: 20 })
  shipPostalCode!: string;

  @Property({ type: 'string', length: 2 })
  shipCountry!: string;

  /** Unpaid past this moment, the order is cancelled and its stock returned. */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  paidAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  cancelledAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  shippedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  deliveredAt: Date | null = null;

  @OneToMany(() => OrderItem, (i) => i.order, { orderBy: { id: 'asc' } })
  items = new Collection<OrderItem>(this);

  constructor(userId: number | null, currency: string, subtotal: string, total: string) {
    super();
    this.user = userId === null ? null : ref(User, userId);
    this.currency = currency;
    this.subtotal = subtotal;
    this.total = total;
  }

  /** Ships to an address of the buyer's book, copied onto the order (the copy is what counts). */
  shipTo(address: { id: number | null; recipientName: string; phone: string | null; line1: string; line2: string; city: string; region: string; postalCode: string; country: string }): void {
    this.shippingAddress = address.id === null ? null : ref(Address, address.id);
    this.shipRecipientName = address.recipientName;
    this.shipPhone = address.phone;
    this.shipLine1 = address.line1;
    this.shipLine2 = address.line2;
    this.shipCity = address.city;
    this.shipRegion = address.region;
    this.shipPostalCode = address.postalCode;
    this.shipCountry = address.country;
  }

  /**
   * Records what the order charges beyond its lines: the shipping method chosen (a copy) and its
   * price, the tax, and whether prices included it.
   */
  charge(quote: { shipping: number | null; shippingTax: number | null; tax: number | null; taxesIncluded: boolean; method: ShippingChoice | null }): void {
    this.shipping = fromMinor(quote.shipping ?? 0);
    this.shippingTax = fromMinor(quote.shippingTax ?? 0);
    this.tax = fromMinor(quote.tax ?? 0);
    this.taxesIncluded = quote.taxesIncluded;
    const m = quote.method;
    if (!m) return;
    this.shippingMethodId = m.id;
    this.shippingMethodName = m.name;
    this.shippingCarrier = m.carrier;
    this.shippingDaysMin = m.deliveryDaysMin;
    this.shippingDaysMax = m.deliveryDaysMax;
  }

  /** Records the discount code used and what it took off. */
  useDiscount(discountId: number, code: string, amount: string): void {
    this.discountRef = ref(Discount, discountId);
    this.couponCode = code;
    this.discount = amount;
  }
}

/** A line of an order; variants and products that were ordered can no longer be deleted (only deactivated). */
@Entity({ tableName: 'order_items' })
@Check({ name: 'order_items_quantity_check', expression: 'quantity > 0 and line_total = unit_price * quantity' })
@Check({ name: 'order_items_amounts_check', expression: 'discount >= 0 and discount <= line_total and tax >= 0 and total >= 0' })
export class OrderItem {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Order, { ref: true, deleteRule: 'cascade', index: 'order_items_order_id_index' })
  order: Ref<Order>;

  @ManyToOne(() => ProductVariant, { ref: true, deleteRule: 'restrict', index: 'order_items_variant_id_index' })
  variant: Ref<ProductVariant>;

  /** Also answers "did this user buy this product" (verified reviews). */
  @ManyToOne(() => Product, { ref: true, deleteRule: 'restrict', index: 'order_items_product_id_index' })
  product: Ref<Product>;

  @Property({ type: 'string', length: 200 })
  productName: string;

  @Property({ type: 'string', length: 120, default: '' })
  variantName: string & Opt = '';

  @Property({ type: 'string', length: 64 })
  sku: string;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  unitPrice: string;

  @Property({ type: 'integer' })
  quantity: number;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  lineTotal: string;

  /** The line's share of the order's discount. */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  discount: string & Opt = '0.00';

  /** Percent, three decimals. */
  @Property({ type: 'decimal', precision: 6, scale: 3, default: 0 })
  taxRate: string & Opt = '0.000';

  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  tax: string & Opt = '0.00';

  /** What the line costs: line total less its discount, plus its tax when prices exclude tax. */
  @Property({ type: 'decimal', precision: 12, scale: 2 })
  total: string;

  /** Its share of the discount and its tax (minor units), at a rate in percent ("20.000"). */
  taxed(discount: number, taxRate: string, tax: number): void {
    this.discount = fromMinor(discount);
    this.taxRate = taxRate;
    this.tax = fromMinor(tax);
  }

  constructor(orderId: number, variantId: number, productId: number, fields: { productName: string; sku: string; unitPrice: string; quantity: number; lineTotal: string; total: string }) {
    this.order = ref(Order, orderId);
    this.variant = ref(ProductVariant, variantId);
    this.product = ref(Product, productId);
    this.productName = fields.productName;
    this.sku = fields.sku;
    this.unitPrice = fields.unitPrice;
    this.quantity = fields.quantity;
    this.lineTotal = fields.lineTotal;
    this.total = fields.total;
  }
}
