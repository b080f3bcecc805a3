import { Entity, Index, ManyToOne, OneToOne, type Opt, PrimaryKey, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { Product } from '../catalog/product.entity';

/** A user's wishlist: one per user, created on first use. */
@Entity({ tableName: 'wishlists' })
export class Wishlist extends BaseEntity {
  @OneToOne(() => User, { ref: true, owner: true, deleteRule: 'cascade', unique: 'wishlists_user_id_unique' })
  user: Ref<User>;

  constructor(user: Ref<User>) {
    super();
    this.user = user;
  }
}

/** A product saved in a wishlist; saving it twice keeps one item. */
@Entity({ tableName: 'wishlist_items' })
@Unique({ name: 'wishlist_items_wishlist_product_unique', properties: ['wishlist', 'product'] })
// The wishlist lists newest first.
@Index({ name: 'wishlist_items_wishlist_created_idx', properties: ['wishlist', 'createdAt', 'id'] })
export class WishlistItem {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Wishlist, { ref: true, deleteRule: 'cascade' })
  wishlist: Ref<Wishlist>;

  @ManyToOne(() => Product, { ref: true, deleteRule: 'cascade', index: 'wishlist_items_product_id_index' })
  product: Ref<Product>;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  constructor(wishlist: Ref<Wishlist>, product: Ref<Product>) {
    this.wishlist = wishlist;
    this.product = product;
  }
}
