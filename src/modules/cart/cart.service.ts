import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import { toMinor } from '../../shared/money';
import { priceLines, subtotalOf } from '../discounts/pricing';
import type { DiscountsService } from '../discounts/discounts.service';
import { CartErrors } from './cart.errors';

const MAX_LINE_QUANTITY = 100;

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

interface LineRow {
  id: number;
  quantity: number;
  added_unit_price: string;
  variant_id: number;
  sku: string;
  variant_name: string;
  attributes: Record<string, string>;
  price: string;
  stock: number;
  variant_active: boolean;
  product_id: number;
  product_name: string;
  slug: string;
  image: string | null;
  product_active: boolean;
}

/** The shopper's cart, priced at current prices on every read. */
export class CartService {
  constructor(private readonly discounts: DiscountsService) {}

  /** The user's cart id, creating the cart on first use (race-free). */
  async cartId(em: EntityManager, userId: number): Promise<number> {
    const [existing] = await em.execute<{ id: number }[]>('select id from carts where user_id = ?', [userId]);
    if (existing) return existing.id;
    // "do update" (not "do nothing") so a concurrent first use still returns the row the other request made.
    const [created] = await em.execute<{ id: number }[]>(
      'insert into carts (user_id) values (?) on conflict (user_id) do update set updated_at = carts.updated_at returning id',
      [userId],
    );
    return created.id;
  }

  /** The cart with every line priced now, problems flagged and totals in minor units (two statements). */
  async view(em: EntityManager, owner: Principal): Promise<CartView> {
    const id = await this.cartId(em, owner.id);
    const [[cart], rows] = await Promise.all([
      em.execute<{ coupon_code: string | null; updated_at: string | Date }[]>('select coupon_code, updated_at from carts where id = ?', [id]),
      em.execute<LineRow[]>(
        `select ci.id, ci.quantity, ci.added_unit_price,
                v.id as variant_id, v.sku, v.name as variant_name, v.attributes, v.price, v.stock, v.is_active as variant_active,
                p.id as product_id, p.name as product_name, p.slug, p.images[1] as image, p.is_active as product_active
           from cart_items ci
           join product_variants v on v.id = ci.variant_id
           join products p on p.id = v.product_id
          where ci.cart_id = ?
          order by ci.id`,
        [id],
      ),
    ]);
    const lines = rows.map((r): CartLine => {
      const unavailable = !r.variant_active || !r.product_active;
      const problem = unavailable ? 'unavailable' : r.stock < r.quantity ? 'insufficient_stock' : null;
      return {
        id: r.id,
        quantity: r.quantity,
        addedUnitPrice: r.added_unit_price,
        unitPrice: r.price,
        variant: { id: r.variant_id, sku: r.sku, name: r.variant_name, attributes: r.attributes },
        product: { id: r.product_id, name: r.product_name, slug: r.slug, image: r.image },
        available: unavailable ? 0 : r.stock,
        problem,
        lineTotal: unavailable ? 0 : toMinor(r.price) * r.quantity,
      };
    });
    const buyable = lines.filter((l) => l.problem !== 'unavailable');
    const priced = buyable.map((l) => ({ productId: l.product.id, lineTotal: l.lineTotal }));
    const subtotal = subtotalOf(priced);
    let discount = 0;
    let couponProblem: string | null = null;
    if (cart.coupon_code) {
      try {
        discount = (await this.discounts.evaluate(em, cart.coupon_code, { userId: owner.id, lines: priced })).amount;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        couponProblem = err.code;
      }
    }
    return {
      id,
      couponCode: cart.coupon_code,
      updatedAt: new Date(cart.updated_at),
      lines,
      itemCount: buyable.reduce((n, l) => n + l.quantity, 0),
      subtotal,
      discount,
      couponProblem,
    };
  }

  /** Applies a discount code after checking it against the cart now (422 with the reason otherwise). */
  async applyCoupon(em: EntityManager, owner: Principal, code: string): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lockCart(tx, owner.id);
      const lines = (await this.checkoutLines(tx, cartId)).filter((l) => l.sellable);
      const { discount } = await this.discounts.evaluate(tx, code, { userId: owner.id, lines: priceLines(lines).lines });
      await tx.execute('update carts set coupon_code = ? where id = ?', [discount.code, cartId]);
    });
    return this.view(em, owner);
  }

  async removeCoupon(em: EntityManager, owner: Principal): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lockCart(tx, owner.id);
      await tx.execute('update carts set coupon_code = null where id = ?', [cartId]);
    });
    return this.view(em, owner);
  }

  /** The lines of a (locked) cart with what checkout needs, in variant order. */
  async checkoutLines(em: EntityManager, cartId: number): Promise<CheckoutLine[]> {
    const rows = await em.execute<
      { id: number; quantity: number; variant_id: number; product_id: number; product_name: string; variant_name: string; sku: string; price: string; stock: number; sellable: boolean }[]
    >(
      `select ci.id, ci.quantity, v.id as variant_id, p.id as product_id, p.name as product_name, v.name as variant_name,
              v.sku, v.price, v.stock, v.is_active and p.is_active as sellable
         from cart_items ci join product_variants v on v.id = ci.variant_id join products p on p.id = v.product_id
        where ci.cart_id = ? order by v.id`,
      [cartId],
    );
    return rows.map((r) => ({
      id: r.id,
      quantity: r.quantity,
      variantId: r.variant_id,
      productId: r.product_id,
      productName: r.product_name,
      variantName: r.variant_name,
      sku: r.sku,
      price: r.price,
      stock: r.stock,
      sellable: r.sellable,
    }));
  }

  /** Empties a cart and forgets its code (after checkout). */
  async empty(em: EntityManager, cartId: number): Promise<void> {
    await em.execute('delete from cart_items where cart_id = ?', [cartId]);
    await em.execute('update carts set coupon_code = null where id = ?', [cartId]);
  }

  /**
   * Adds units of a variant. One atomic upsert sums concurrent adds; the resulting line is then
   * checked against the stock and the line limit, and the whole change is undone if it fails.
   */
  async add(em: EntityManager, owner: Principal, variantId: number, quantity: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lockCart(tx, owner.id);
      const [variant] = await tx.execute<{ price: string; stock: number; sellable: boolean }[]>(
        `select v.price, v.stock, v.is_active and p.is_active as sellable
           from product_variants v join products p on p.id = v.product_id where v.id = ?`,
        [variantId],
      );
      if (!variant) throw CartErrors.unknownVariant(variantId);
      if (!variant.sellable) throw CartErrors.variantUnavailable(variantId);
      // Adding to an existing line is conditional: past the line limit no row comes back.
      const [line] = await tx.execute<{ quantity: number }[]>(
        `insert into cart_items (cart_id, variant_id, quantity, added_unit_price) values (?, ?, ?, ?)
         on conflict (cart_id, variant_id) do update
           set quantity = cart_items.quantity + excluded.quantity, updated_at = now()
           where cart_items.quantity + excluded.quantity <= ?
         returning quantity`,
        [cartId, variantId, quantity, variant.price, MAX_LINE_QUANTITY],
      );
      if (!line) throw CartErrors.quantityLimit(MAX_LINE_QUANTITY);
      if (line.quantity > variant.stock) throw CartErrors.insufficientStock(variantId, variant.stock);
    });
    return this.view(em, owner);
  }

  /** Sets a line's quantity (0 removes it); more than the stock is refused. */
  async setQuantity(em: EntityManager, owner: Principal, itemId: number, quantity: number): Promise<CartView> {
    if (quantity === 0) return this.remove(em, owner, itemId);
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lockCart(tx, owner.id);
      const [line] = await tx.execute<{ variant_id: number; stock: number; sellable: boolean }[]>(
        `select ci.variant_id, v.stock, v.is_active and p.is_active as sellable
           from cart_items ci join product_variants v on v.id = ci.variant_id join products p on p.id = v.product_id
          where ci.id = ? and ci.cart_id = ?`,
        [itemId, cartId],
      );
      if (!line) throw CartErrors.itemNotFound();
      if (!line.sellable) throw CartErrors.variantUnavailable(line.variant_id);
      if (quantity > line.stock) throw CartErrors.insufficientStock(line.variant_id, line.stock);
      await tx.execute('update cart_items set quantity = ?, updated_at = now() where id = ?', [quantity, itemId]);
    });
    return this.view(em, owner);
  }

  /** Removes a line of the owner's cart; anyone else's line answers 404. */
  async remove(em: EntityManager, owner: Principal, itemId: number): Promise<CartView> {
    await em.transactional(async (tx) => {
      const { id: cartId } = await this.lockCart(tx, owner.id);
      const deleted = await tx.execute<{ id: number }[]>('delete from cart_items where id = ? and cart_id = ? returning id', [itemId, cartId]);
      if (deleted.length === 0) throw CartErrors.itemNotFound();
    });
    return this.view(em, owner);
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
      const { affectedRows } = await em.execute<QueryResult>(
        `delete from carts where id in (
           select id from carts where updated_at < now() - make_interval(days => ?)
            order by updated_at limit ? for update skip locked)`,
        [ttlDays, batchSize],
        'run',
      );
      total += affectedRows;
      if (affectedRows < batchSize) return total;
    }
  }

  /**
   * Locks the user's cart row and marks it changed now (abandoned carts are found by their last
   * change). Every change takes this lock first, so changes to one cart never deadlock.
   */
  async lockCart(em: EntityManager, userId: number): Promise<{ id: number; couponCode: string | null }> {
    const lock = () =>
      em.execute<{ id: number; coupon_code: string | null }[]>('update carts set updated_at = now() where user_id = ? returning id, coupon_code', [userId]);
    let [cart] = await lock();
    if (!cart) {
      await this.cartId(em, userId); // first use: create it
      [cart] = await lock();
    }
    return { id: cart.id, couponCode: cart.coupon_code };
  }
}
