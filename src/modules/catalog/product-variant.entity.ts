import { Check, Entity, Index, ManyToOne, type Opt, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { Product } from './product.entity';

/** A purchasable version of a product (size, colour...). Carts and orders always reference variants. */
@Entity({ tableName: 'product_variants' })
@Check({ name: 'product_variants_stock_check', expression: 'stock >= 0' })
@Check({ name: 'product_variants_price_check', expression: 'price >= 0' })
@Check({ name: 'product_variants_weight_check', expression: 'weight_grams >= 0' })
export class ProductVariant extends BaseEntity {
  /** The product detail and the aggregate trigger read a product's variants. */
  @Index({ name: 'product_variants_product_id_index' })
  @ManyToOne(() => Product, { ref: true, deleteRule: 'cascade' })
  product: Ref<Product>;

  @Property({ type: 'string', length: 64, unique: true })
  sku: string;

  /** A display name such as "Red / M". */
  @Property({ type: 'string', length: 120, default: '' })
  name: string & Opt = '';

  /** Free-form attributes such as `{ "size": "M", "colour": "red" }`. */
  @Property({ type: 'json', default: '{}' })
  attributes: Record<string, string> & Opt = {};

  @Property({ type: 'decimal', precision: 12, scale: 2 })
  price: string;

  @Property({ type: 'integer', default: 0 })
  stock: number & Opt = 0;

  /** The shipping weight of one unit, in grams. */
  @Property({ type: 'integer', default: 0 })
  weightGrams: number & Opt = 0;

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  constructor(product: Ref<Product>, sku: string, price: string) {
    super();
    this.product = product;
    this.sku = sku;
    this.price = price;
  }
}
