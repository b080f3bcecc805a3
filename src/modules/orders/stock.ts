import type { EntityManager } from '@mikro-orm/postgresql';
import { CartErrors } from '../cart/cart.errors';

export type StockReason = 'sale' | 'cancellation' | 'return' | 'adjustment';

/**
 * Moves stock inside the caller's transaction. The products are locked first, in id order, then the
 * variants are changed in id order: concurrent checkouts and cancellations take their locks in the
 * same order and cannot deadlock. A sale is a conditional decrement (`stock >= n`), so stock never
 * goes below zero; the database's CHECK constraint backs that up. The ledger trigger records each
 * change with `reason` and `orderId`.
 */
export async function moveStock(
  em: EntityManager,
  reason: StockReason,
  orderId: number | null,
  lines: { variantId: number; productId: number; quantity: number }[],
): Promise<void> {
  if (lines.length === 0) return;
  await em.execute(`select set_config('app.stock_reason', ?, true), set_config('app.order_id', ?, true)`, [reason, orderId === null ? '' : String(orderId)]);
  const products = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  await em.execute(`select id from products where id = any(?::int[]) order by id for update`, [`{${products.join(',')}}`]);
  const byVariant = [...lines].sort((a, b) => a.variantId - b.variantId);
  for (const line of byVariant) {
    if (reason === 'sale') {
      const moved = await em.execute<{ stock: number }[]>(
        'update product_variants set stock = stock - ? where id = ? and stock >= ? and is_active returning stock',
        [line.quantity, line.variantId, line.quantity],
      );
      if (moved.length === 0) {
        const [current] = await em.execute<{ stock: number; is_active: boolean }[]>('select stock, is_active from product_variants where id = ?', [line.variantId]);
        throw CartErrors.insufficientStock(line.variantId, current?.is_active ? current.stock : 0);
      }
    } else {
      await em.execute('update product_variants set stock = stock + ? where id = ?', [line.quantity, line.variantId]);
    }
  }
  await em.execute(`select set_config('app.stock_reason', '', true), set_config('app.order_id', '', true)`);
}
