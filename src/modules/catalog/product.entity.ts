import { ArrayType, Check, Entity, Enum, Index, ManyToOne, type Opt, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { TAX_CLASSES, type TaxClass } from '../../shared/tax-classes';
import { User } from '../accounts/user.entity';
import { Category } from './category.entity';

/**
 * A product (its variants refer to it). Its price, price range and stock are derived from its active variants by the database
 * (trigger `product_variants_refresh_product`), in the same transaction as any variant change; the
 * rating aggregates follow its reviews. A full-text `search_vector` column (generated, not mapped)
 * serves search.
 *
 * Discovery indexes (partial on active rows; every ordering ends with the id):
 */
@Entity({ tableName: 'products' })
// Unfiltered listing, by each ordering.
@Index({ name: 'products_active_price_idx', expression: 'create index "products_active_price_idx" on "products" ("price", "id") where "is_active"' })
@Index({ name: 'products_active_created_idx', expression: 'create index "products_active_created_idx" on "products" ("created_at", "id") where "is_active"' })
@Index({ name: 'products_active_name_idx', expression: 'create index "products_active_name_idx" on "products" ("name", "id") where "is_active"' })
@Index({ name: 'products_active_rating_idx', expression: 'create index "products_active_rating_idx" on "products" ("rating_avg", "id") where "is_active"' })
// Category listing (one ordered probe per category of the subtree), by each ordering.
@Index({ name: 'products_active_category_price_idx', expression: 'create index "products_active_category_price_idx" on "products" ("category_id", "price", "id") where "is_active"' })
@Index({ name: 'products_active_category_created_idx', expression: 'create index "products_active_category_created_idx" on "products" ("category_id", "created_at", "id") where "is_active"' })
@Index({ name: 'products_active_category_name_idx', expression: 'create index "products_active_category_name_idx" on "products" ("category_id", "name", "id") where "is_active"' })
@Index({ name: 'products_active_category_rating_idx', expression: 'create index "products_active_category_rating_idx" on "products" ("category_id", "rating_avg", "id") where "is_active"' })
// A category filtered by brand ("phones by Norvik"), by price: one ordered probe per category of the
// subtree that reads only that brand (without it, each probe read the whole category: 430 ms).
@Index({ name: 'products_active_category_brand_price_idx', expression: 'create index "products_active_category_brand_price_idx" on "products" ("category_id", "brand", "price", "id") where "is_active"' })
// Brand filter (storefront brand pages, facets), ordered by price.
@Index({ name: 'products_active_brand_price_idx', expression: 'create index "products_active_brand_price_idx" on "products" ("brand", "price", "id") where "is_active"' })
// A vendor's own catalog (active or not), newest first; also the vendor foreign key.
@Index({ name: 'products_vendor_created_idx', expression: 'create index "products_vendor_created_idx" on "products" ("vendor_id", "created_at", "id")' })
@Check({ name: 'products_price_check', expression: 'price >= 0 and max_price >= price' })
@Check({ name: 'products_stock_check', expression: 'stock >= 0' })
@Check({ name: 'products_rating_check', expression: 'rating_avg >= 0 and rating_avg <= 5 and rating_count >= 0' })
export class Product extends BaseEntity {
  @ManyToOne(() => User, { ref: true, deleteRule: 'restrict' })
  vendor: Ref<User>;

  @ManyToOne(() => Category, { ref: true, deleteRule: 'restrict' })
  category: Ref<Category>;

  @Property({ type: 'string', length: 200 })
  name: string;

  @Property({ type: 'string', length: 220, unique: true })
  slug: string;

  @Property({ type: 'text', default: '' })
  description: string & Opt = '';

  @Property({ type: 'string', length: 100, default: '' })
  brand: string & Opt = '';

  @Property({ type: 'string', length: 64, unique: true })
  sku: string;

  @Property({ type: ArrayType, columnType: 'text[]', default: '{}' })
  images: string[] & Opt = [];

  /** Which of a destination's tax rates applies. */
  @Enum({ items: () => [...TAX_CLASSES], default: 'standard' })
  taxClass: TaxClass & Opt = 'standard';

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  /** Lowest price among active variants (maintained by the database). */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  price: string & Opt = '0.00';

  /** Highest price among active variants (maintained by the database). */
  @Property({ type: 'decimal', precision: 12, scale: 2, default: 0 })
  maxPrice: string & Opt = '0.00';

  /** Total stock of active variants (maintained by the database). */
  @Property({ type: 'integer', default: 0 })
  stock: number & Opt = 0;

  @Property({ type: 'boolean', default: false })
  inStock: boolean & Opt = false;

  @Property({ type: 'decimal', precision: 3, scale: 2, default: 0 })
  ratingAvg: string & Opt = '0.00';

  @Property({ type: 'integer', default: 0 })
  ratingCount: number & Opt = 0;

  constructor(vendorId: number, categoryId: number, name: string, slug: string, sku: string) {
    super();
    this.vendor = ref(User, vendorId);
    this.category = ref(Category, categoryId);
    this.name = name;
    this.slug = slug;
    this.sku = sku;
  }
}
