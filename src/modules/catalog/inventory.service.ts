import type { EntityManager } from '@mikro-orm/postgresql';
import { type CatalogPublisher, noCatalogEvents } from './catalog.events';
import { CatalogErrors } from './catalog.errors';
import type { InventoryRepository, MovedStock } from './inventory.repository';

/** Units of one variant of one product. */
export interface StockLine {
  variantId: number;
  productId: number;
  quantity: number;
}

/**
 * Stock and its ledger, for checkout: units leave stock when an order is placed and come back when
 * it is cancelled or its goods return. Everything runs inside the caller's transaction. Products
 * are locked first, in id order, then variants are changed in id order: concurrent checkouts and
 * cancellations take their locks in the same order and cannot deadlock. A sale is a conditional
 * decrement (`stock >= n`), so stock never goes below zero (the CHECK constraint backs that up).
 */
export class InventoryService {
  constructor(
    private readonly stock: InventoryRepository,
    private readonly events: CatalogPublisher = noCatalogEvents,
  ) {}

  /**
   * Takes the order's units out of stock, or throws 409 INSUFFICIENT_STOCK with what is available.
   * Announces `variant.stock_changed` for each variant, in the caller's transaction.
   */
  async sell(em: EntityManager, orderId: number, lines: readonly StockLine[]): Promise<void> {
    await this.move(em, 'sale', orderId, lines, async (line) => {
      const moved = await this.stock.take(em, line.variantId, line.quantity);
      if (!moved) throw CatalogErrors.insufficientStock(line.variantId, await this.stock.available(em, line.variantId));
      await this.announce(em, line.variantId, moved, moved.stock + line.quantity);
    });
  }

  /**
   * Puts an order's units back: it was cancelled (`cancellation`) or its goods came back (`return`).
   * Announces `variant.stock_changed` for each variant, in the caller's transaction.
   */
  async restock(em: EntityManager, reason: 'cancellation' | 'return', orderId: number, lines: readonly StockLine[]): Promise<void> {
    await this.move(em, reason, orderId, lines, async (line) => {
      const moved = await this.stock.put(em, line.variantId, line.quantity);
      if (moved) await this.announce(em, line.variantId, moved, moved.stock - line.quantity);
    });
  }

  private announce(em: EntityManager, variantId: number, moved: MovedStock, previousStock: number): Promise<void> {
    return this.events.publish(em, 'variant.stock_changed', { variantId, productId: moved.product_id, sku: moved.sku, stock: moved.stock, previousStock });
  }

  private async move(
    em: EntityManager,
    reason: 'sale' | 'cancellation' | 'return',
    orderId: number,
    lines: readonly StockLine[],
    change: (line: StockLine) => Promise<void>,
  ): Promise<void> {
    if (lines.length === 0) return;
    await this.stock.explain(em, reason, orderId);
    await this.stock.lockProducts(em, lines.map((l) => l.productId));
    for (const line of [...lines].sort((a, b) => a.variantId - b.variantId)) await change(line);
    await this.stock.forget(em);
  }
}
