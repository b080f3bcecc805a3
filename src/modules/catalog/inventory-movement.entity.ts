import { Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { ProductVariant } from './product-variant.entity';

export const STOCK_REASONS = ['initial', 'sale', 'cancellation', 'return', 'adjustment'] as const;

/**
 * The inventory ledger: one row per stock change of a variant, written by a database trigger in the
 * same transaction as the change (the reason and order come from transaction-local settings), so
 * the stock on hand always equals the sum of its movements.
 */
@Entity({ tableName: 'inventory_movements' })
// A variant's history, in order.
@Index({ name: 'inventory_movements_variant_idx', properties: ['variant', 'id'] })
export class InventoryMovement {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => ProductVariant, { ref: true, deleteRule: 'cascade' })
  variant!: Ref<ProductVariant>;

  @Property({ type: 'integer' })
  delta!: number;

  @Enum({ items: () => [...STOCK_REASONS] })
  reason!: (typeof STOCK_REASONS)[number];

  @Property({ type: 'integer', nullable: true, index: 'inventory_movements_order_id_index' })
  orderId: number | null = null;

  @Property({ type: 'integer' })
  stockAfter!: number;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
