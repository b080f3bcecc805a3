import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../../shared/errors';
import { fromMinor, toMinor } from '../../shared/money';
import type { Principal } from '../../shared/principal';
import { CatalogErrors, type CatalogReader, type SaleLine } from '../catalog';
import { type DiscountsService, priceLines, subtotalOf } from '../discounts';
import { CartErrors } from './cart.errors';
import type { CartItemRow, CartRepository } from './cart.repository';

const MAX_LINE_QUANTITY = 100;
/** Lines of one cart (the contract's Cart.items holds at most 100). */
export const MAX_CART_LINES = 100;
/**
 * The most an order can hold, in minor units: its amounts are numeric(12,2), so 9999999999.99.
 * Unit prices are at most 999999.99 (the contract's PriceInput), so 100 lines of 100 units stay
 * below it; prices stored before that bound can still add up past it.
 */
export const MAX_ORDER_TOTAL = 999_999_999_999;

export interface CartLine {
  id: number;
  quantity: number;
  addedUnitPrice: string;
  unitPrice: string;
  variant: { id: number; sku: string; name: string; attributes: Record<string, string> };
  product: { id: number; name: string; slug: string; image: string | null };
  available: number;
  problem: 'unavailable' | 'insufficient_stock' | null;
  /** Minor units; 0 for unavailable lines. */
  lineTotal: number;
}

export interface CartView {
  id: number;
  couponCode: string | null;
  updatedAt: Date;
  lines: CartLine[];
  itemCount: number;
  /** Minor units. */
  subtotal: number;
  /** Minor units: what the applied code is worth now (0 if it no longer applies). */
  discount: number;
  /** Why the applied code is worth nothing now, as its problem code. */
  couponProblem: string | null;
}

/** A cart line as checkout needs it: current price, stock and whether it can be sold. */
export interface CheckoutLine {
  id: number;
  quantity: number;
  variantId: number;
  productId: number;
  productName: string;
  variantName: string;
  sku: string;
  price: string;
  stock: number;
  sellable: boolean;
}

/** The shopper's cart, priced at current prices (asked of the catalog) on every read. */
export class CartService {
  constructor(
    private readonly carts: CartRepository,
    private readonly catalog: CatalogReader,
    private readonly discounts: DiscountsService,
  ) {}

  /** The cart with every line priced now, problems flagged and totals in minor units. */
  async view(em: EntityManager, owner: Principal): Promise<CartView> {
    const id = await this.carts.cartId(em, owner.id);
    const [cart, items] = await Promise.all([this.carts.header(em, id), this.carts.items(em, id)]);
    const sale = await this.catalog.saleLines(em, items.map((i) => i.variantId));
    const lines = items.flatMap((item): CartLine[] => {
      const line = sale.get(item.variantId);
      return line ? [priced(item, line)] : [];
    });
    const buyable = lines.filter((l) => l.problem !== 'unavailable');
    const pricedLines = buyable.map((l) => ({ productId: l.product.id, lineTotal: l.lineTotal }));
    let discount = 0;
    let couponProblem: string | null = null;
    if (cart.couponCode) {
      try {
        discount = (await this.discounts.evaluate(em, cart.couponCode, { userId: owner.id, lines: pricedLines })).amount;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        couponProblem = err.code;
      }
    }
    return {
      id,
      couponCode: cart.couponCode,
      updatedAt: cart.updatedAt,
      lines,
      itemCount: buyable.reduce((n, l) => n + l.quantity, 0),
      subtotal: subtotalOf(pricedLines),
      discount,
      couponProblem,
    };
  }

  /** Applies a discount code after checking it against the cart now (422 with the reason otherwise). */
  async applyCoupon(em: EntityManager, owner: Principal, code: string): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.carts.lock(tx, owner.id);
      const lines = (await this.checkoutLines(tx, cartId)).filter((l) => l.sellable);
      const { discount } = await this.discounts.evaluate(tx, code, { userId: owner.id, lines: priceLines(lines).lines });
      await this.carts.setCoupon(tx, cartId, discount.code);
    });
    return this.view(em, owner);
  }

  async removeCoupon(em: EntityManager, owner: Principal): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.carts.lock(tx, owner.id);
      await this.carts.setCoupon(tx, cartId, null);
    });
    return this.view(em, owner);
  }

  /**
   * Adds units of a variant. One atomic upsert sums concurrent adds; the resulting line is then
   * checked against the stock and the line limit, and the whole change is undone if it fails.
   */
  async add(em: EntityManager, owner: Principal, variantId: number, quantity: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.carts.lock(tx, owner.id);
      const variant = await this.catalog.saleLine(tx, variantId);
      if (!variant) throw CartErrors.unknownVariant(variantId);
      if (!variant.sellable) throw CartErrors.variantUnavailable(variantId);
      const total = await this.carts.addUnits(tx, cartId, variantId, quantity, variant.price, MAX_LINE_QUANTITY);
      if (total === undefined) throw CartErrors.quantityLimit(MAX_LINE_QUANTITY);
      if (total > variant.stock) throw CatalogErrors.insufficientStock(variantId, variant.stock);
      await this.checkLimits(tx, cartId);
    });
    return this.view(em, owner);
  }

  /** Sets a line's quantity (0 removes it); more than the stock is refused. */
  async setQuantity(em: EntityManager, owner: Principal, itemId: number, quantity: number): Promise<CartView> {
    if (quantity === 0) return this.remove(em, owner, itemId);
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.carts.lock(tx, owner.id);
      const item = await this.carts.item(tx, cartId, itemId);
      const variant = item && (await this.catalog.saleLine(tx, item.variantId));
      if (!item || !variant) throw CartErrors.itemNotFound();
      if (!variant.sellable) throw CartErrors.variantUnavailable(item.variantId);
      if (quantity > variant.stock) throw CatalogErrors.insufficientStock(item.variantId, variant.stock);
      await this.carts.setQuantity(tx, itemId, quantity);
      await this.checkLimits(tx, cartId);
    });
    return this.view(em, owner);
  }

  /** Removes a line of the owner's cart; anyone else's line answers 404. */
  async remove(em: EntityManager, owner: Principal, itemId: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.carts.lock(tx, owner.id);
      if (!(await this.carts.removeItem(tx, cartId, itemId))) throw CartErrors.itemNotFound();
    });
    return this.view(em, owner);
  }

  /**
   * Checkout's hold on the cart: locks the user's cart (a double submit waits, then finds it empty)
   * and answers its id and applied code.
   */
  lockCart(em: EntityManager, userId: number): Promise<{ id: number; couponCode: string | null }> {
    return this.carts.lock(em, userId);
  }

  /**
   * The lines of a (locked) cart with what checkout needs, in variant order. A cart no order can
   * hold (its sellable lines add up past MAX_ORDER_TOTAL) is refused: 422 CART_TOTAL_LIMIT.
   */
  async checkoutLines(em: EntityManager, cartId: number): Promise<CheckoutLine[]> {
    const { lines } = await this.linesOf(em, cartId);
    assertOrderable(lines);
    return lines;
  }

  private async linesOf(em: EntityManager, cartId: number): Promise<{ items: CartItemRow[]; lines: CheckoutLine[] }> {
    const items = await this.carts.items(em, cartId);
    const sale = await this.catalog.saleLines(em, items.map((i) => i.variantId));
    const lines = items
      .flatMap((item) => {
        const line = sale.get(item.variantId);
        return line ? [checkoutLine(item, line)] : [];
      })
      .sort((a, b) => a.variantId - b.variantId);
    return { items, lines };
  }

  /**
   * After a change, inside its transaction: the cart still has at most MAX_CART_LINES lines and a
   * total an order can hold, or the change is undone (422 CART_LINE_LIMIT, CART_TOTAL_LIMIT).
   */
  private async checkLimits(em: EntityManager, cartId: number): Promise<void> {
    const { items, lines } = await this.linesOf(em, cartId);
    if (items.length > MAX_CART_LINES) throw CartErrors.lineLimit(MAX_CART_LINES);
    assertOrderable(lines);
  }

  /** Empties a cart and forgets its code (after checkout). */
  empty(em: EntityManager, cartId: number): Promise<void> {
    return this.carts.empty(em, cartId);
  }

  /**
   * Deletes the carts (their lines go with them) nobody changed for `ttlDays`, in batches so no
   * statement holds many locks; returns how many. A cart being changed right now is skipped (its
   * lock is held) or no longer stale when its row is re-read, so no live cart is lost. Running it
   * again deletes nothing more: it is idempotent.
   */
  async expireAbandoned(em: EntityManager, ttlDays: number, batchSize = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.carts.deleteStale(em, ttlDays, batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }
}

function priced(item: CartItemRow, line: SaleLine): CartLine {
  const problem = !line.sellable ? 'unavailable' : line.stock < item.quantity ? 'insufficient_stock' : null;
  return {
    id: item.id,
    quantity: item.quantity,
    addedUnitPrice: item.addedUnitPrice,
    unitPrice: line.price,
    variant: { id: line.variantId, sku: line.sku, name: line.variantName, attributes: line.attributes },
    product: { id: line.productId, name: line.productName, slug: line.slug, image: line.image },
    available: line.sellable ? line.stock : 0,
    problem,
    lineTotal: line.sellable ? toMinor(line.price) * item.quantity : 0,
  };
}

/** Refuses lines whose sellable part adds up to more than an order can hold. */
function assertOrderable(lines: readonly CheckoutLine[]): void {
  if (priceLines(lines.filter((l) => l.sellable)).subtotal > MAX_ORDER_TOTAL) throw CartErrors.totalLimit(fromMinor(MAX_ORDER_TOTAL));
}

function checkoutLine(item: CartItemRow, line: SaleLine): CheckoutLine {
  return {
    id: item.id,
    quantity: item.quantity,
    variantId: line.variantId,
    productId: line.productId,
    productName: line.productName,
    variantName: line.variantName,
    sku: line.sku,
    price: line.price,
    stock: line.stock,
    sellable: line.sellable,
  };
}
