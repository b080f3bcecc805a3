import type { EntityManager } from '@mikro-orm/postgresql';

/** Why stock moved: recorded on each inventory ledger row (`inventory_movements`). */
export type StockReason = 'sale' | 'cancellation' | 'return' | 'adjustment';

/** A variant's stock after a move (for its `variant.stock_changed` event). */
export interface MovedStock {
  stock: number;
  sku: string;
  product_id: number;
}

/**
 * The stock's SQL. Stock lives on `product_variants`; a product's totals and the ledger rows are
 * written by database triggers in the same transaction, which read the reason and the order from
 * transaction-local settings.
 */
export class InventoryRepository {
  /** Says why the following stock changes happen (read by the ledger trigger), until `forget`. */
  async explain(em: EntityManager, reason: StockReason, orderId: number | null): Promise<void> {
    await em.execute(`select set_config('app.stock_reason', ?, true), set_config('app.order_id', ?, true)`, [reason, orderId === null ? '' : String(orderId)]);
  }

  async forget(em: EntityManager): Promise<void> {
    await em.execute(`select set_config('app.stock_reason', '', true), set_config('app.order_id', '', true)`);
  }

  /** Locks the products in id order (the first half of the lock order every stock change follows). */
  async lockProducts(em: EntityManager, productIds: readonly number[]): Promise<void> {
    const ids = [...new Set(productIds)].sort((a, b) => a - b);
    await em.execute(`select id from products where id = any(?::int[]) order by id for update`, [`{${ids.join(',')}}`]);
  }

  /** Takes units out of an active variant's stock if that many are there; its stock after, or null if it did not. */
  async take(em: EntityManager, variantId: number, quantity: number): Promise<MovedStock | null> {
    const [moved] = await em.execute<MovedStock[]>(
      'update product_variants set stock = stock - ? where id = ? and stock >= ? and is_active returning stock, sku, product_id',
      [quantity, variantId, quantity],
    );
    return moved ?? null;
  }

  /** Puts units back; the variant's stock after (null: no such variant). */
  async put(em: EntityManager, variantId: number, quantity: number): Promise<MovedStock | null> {
    const [moved] = await em.execute<MovedStock[]>('update product_variants set stock = stock + ? where id = ? returning stock, sku, product_id', [quantity, variantId]);
    return moved ?? null;
  }

  /** What can be sold of a variant now: its stock, or 0 when it is inactive (or missing). */
  async available(em: EntityManager, variantId: number): Promise<number> {
    const [current] = await em.execute<{ stock: number; is_active: boolean }[]>('select stock, is_active from product_variants where id = ?', [variantId]);
    return current?.is_active ? current.stock : 0;
  }
}
