import { Check, Collection, Entity, ManyToOne, OneToMany, OneToOne, type Opt, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { ProductVariant } from '../catalog/product-variant.entity';

/** A user's cart (one per user, created on first use), or a guest's (known by its token's hash). */
@Entity({ tableName: 'carts' })
@Check({ name: 'carts_owner_check', expression: '(user_id is null) <> (token_hash is null)' })
export class Cart extends BaseEntity {
  @OneToOne(() => User, { ref: true, owner: true, nullable: true, deleteRule: 'cascade', unique: 'carts_user_id_unique' })
  user: Ref<User> | null;

  /** A guest cart's token, as its SHA-256 (hex): the token itself is only ever shown to the guest. */
  @Property({ type: 'string', length: 64, nullable: true, unique: 'carts_token_hash_unique' })
  tokenHash: string | null = null;

  /** The discount code applied at checkout, if any. */
  @Property({ type: 'string', length: 40, nullable: true })
  couponCode: string | null = null;

  @OneToMany(() => CartItem, (i) => i.cart, { orderBy: { id: 'asc' } })
  items = new Collection<CartItem>(this);

  constructor(user: Ref<User> | null) {
    super();
    this.user = user;
  }
}

/** One variant in a cart. The price shown is always the current one; `addedUnitPrice` reveals changes. */
@Entity({ tableName: 'cart_items' })
// One line per variant: adding again increases the quantity (an upsert on this key).
@Unique({ name: 'cart_items_cart_variant_unique', properties: ['cart', 'variant'] })
@Check({ name: 'cart_items_quantity_check', expression: 'quantity between 1 and 100' })
export class CartItem extends BaseEntity {
  @ManyToOne(() => Cart, { ref: true, deleteRule: 'cascade' })
  cart: Ref<Cart>;

  /** Also lets a variant's deletion find (and remove) the lines holding it. */
  @ManyToOne(() => ProductVariant, { ref: true, deleteRule: 'cascade', index: 'cart_items_variant_id_index' })
  variant: Ref<ProductVariant>;

  @Property({ type: 'integer' })
  quantity: number;

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  addedUnitPrice: string;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  addedAt: Date & Opt = new Date();

  constructor(cart: Ref<Cart>, variant: Ref<ProductVariant>, quantity: number, addedUnitPrice: string) {
    super();
    this.cart = cart;
    this.variant = variant;
    this.quantity = quantity;
    this.addedUnitPrice = addedUnitPrice;
  }
}
