import { Check, Entity, Index, ManyToOne, type Opt, Property, type Ref, ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';
import { Product } from '../catalog/product.entity';

/** A user's review of a product: one per user and product. */
@Entity({ tableName: 'reviews' })
@Unique({ name: 'reviews_user_product_unique', properties: ['user', 'product'] })
@Check({ name: 'reviews_rating_check', expression: 'rating between 1 and 5' })
// A product's reviews, newest first or by rating.
@Index({ name: 'reviews_product_created_idx', properties: ['product', 'createdAt', 'id'] })
@Index({ name: 'reviews_product_rating_idx', properties: ['product', 'rating', 'id'] })
// A user's reviews, newest first (the unique key serves lookups by user and product).
@Index({ name: 'reviews_user_created_idx', properties: ['user', 'createdAt', 'id'] })
export class Review extends BaseEntity {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  @ManyToOne(() => Product, { ref: true, deleteRule: 'cascade' })
  product: Ref<Product>;

  @Property({ type: 'smallint' })
  rating: number;

  @Property({ type: 'string', length: 120, default: '' })
  title: string & Opt = '';

  @Property({ type: 'text', default: '' })
  comment: string & Opt = '';

  @Property({ type: 'boolean', default: false })
  verifiedPurchase: boolean & Opt = false;

  constructor(userId: number, productId: number, rating: number) {
    super();
    this.user = ref(User, userId);
    this.product = ref(Product, productId);
    this.rating = rating;
  }
}
