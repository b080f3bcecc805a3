import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/** A cart line as stored: the variant, how many, and the unit price when it was added. */
export interface CartItemRow {
  id: number;
  quantity: number;
  addedUnitPrice: string;
  variantId: number;
}

type ItemRow = { id: number; quantity: number; added_unit_price: string; variant_id: number };
const ITEMS = 'select id, quantity, added_unit_price, variant_id from cart_items';
const toItem = (r: ItemRow): CartItemRow => ({ id: r.id, quantity: r.quantity, addedUnitPrice: r.added_unit_price, variantId: r.variant_id });

/**
 * The cart's SQL. Carts change through single atomic statements (an upsert that sums concurrent
 * adds, conditional updates), which the unit of work cannot express; the entities in
 * cart.entity.ts define the tables.
 */
export class CartRepository {
  /** The owner's cart id: a guest's cart as its token named it, a user's created on first use (race-free). */
  async cartId(em: EntityManager, owner: { userId: number } | { cartId: number }): Promise<number> {
    if ('cartId' in owner) return owner.cartId;
    const { userId } = owner;
    const [existing] = await em.execute<{ id: number }[]>('select id from carts where user_id = ?', [userId]);
    if (existing) return existing.id;
    // "do update" (not "do nothing") so a concurrent first use still returns the row the other request made.
    const [created] = await em.execute<{ id: number }[]>(
      'insert into carts (user_id) values (?) on conflict (user_id) do update set updated_at = carts.updated_at returning id',
      [userId],
    );
    if (!created) throw new Error(`no cart for user ${userId}`);
    return created.id;
  }

  /**
   * Locks the user's cart row and marks it changed now (abandoned carts are found by their last
   * change), creating the cart on first use. Every change takes this lock first, so changes to one
   * cart never deadlock.
   */
  async lock(em: EntityManager, owner: { userId: number } | { cartId: number }): Promise<{ id: number; couponCode: string | null } | null> {
    const [column, value] = 'userId' in owner ? ['user_id', owner.userId] : ['id', owner.cartId];
    const lock = () =>
      em.execute<{ id: number; coupon_code: string | null }[]>(`update carts set updated_at = now() where ${column} = ? returning id, coupon_code`, [value]);
    let [cart] = await lock();
    if (!cart && 'userId' in owner) {
      await this.cartId(em, owner);
      [cart] = await lock();
    }
    // A guest's cart can expire between its token's check and this lock.
    return cart ? { id: cart.id, couponCode: cart.coupon_code } : null;
  }

  /** Locks carts in id order (so two transactions locking the same carts never deadlock); the ones that still exist. */
  async lockCarts(em: EntityManager, ids: number[]): Promise<{ id: number; userId: number | null; couponCode: string | null }[]> {
    const rows = await em.execute<{ id: number; user_id: number | null; coupon_code: string | null }[]>(
      'select id, user_id, coupon_code from carts where id = any(?::int[]) order by id for update',
      [`{${ids.join(',')}}`],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id, couponCode: r.coupon_code }));
  }

  /** Sets a variant's line to a quantity, adding the line if the cart has none. */
  async putLine(em: EntityManager, cartId: number, variantId: number, quantity: number, unitPrice: string): Promise<void> {
    await em.execute(
      `insert into cart_items (cart_id, variant_id, quantity, added_unit_price) values (?, ?, ?, ?)
       on conflict (cart_id, variant_id) do update set quantity = excluded.quantity, updated_at = now()`,
      [cartId, variantId, quantity, unitPrice],
    );
  }

  /** Deletes a cart and its lines. */
  async deleteCart(em: EntityManager, cartId: number): Promise<void> {
    await em.execute('delete from carts where id = ?', [cartId]);
  }

  /** A new guest cart, known by its token's hash; its id. */
  async createGuest(em: EntityManager, tokenHash: string): Promise<number> {
    const [created] = await em.execute<{ id: number }[]>('insert into carts (token_hash) values (?) returning id', [tokenHash]);
    if (!created) throw new Error('no guest cart created');
    return created.id;
  }

  /** The guest cart a token's hash names, or null. */
  async guestCartId(em: EntityManager, tokenHash: string): Promise<number | null> {
    const [cart] = await em.execute<{ id: number }[]>('select id from carts where token_hash = ?', [tokenHash]);
    return cart?.id ?? null;
  }

  /** The cart's code and last change; null when it is gone (a guest cart that expired or merged meanwhile). */
  async header(em: EntityManager, cartId: number): Promise<{ couponCode: string | null; updatedAt: Date } | null> {
    const [cart] = await em.execute<{ coupon_code: string | null; updated_at: string | Date }[]>('select coupon_code, updated_at from carts where id = ?', [cartId]);
    return cart ? { couponCode: cart.coupon_code, updatedAt: new Date(cart.updated_at) } : null;
  }

  /** The cart's lines in the order they were added. */
  async items(em: EntityManager, cartId: number): Promise<CartItemRow[]> {
    return (await em.execute<ItemRow[]>(`${ITEMS} where cart_id = ? order by id`, [cartId])).map(toItem);
  }

  /** One line of the cart, or undefined (another cart's line is as good as missing). */
  async item(em: EntityManager, cartId: number, itemId: number): Promise<CartItemRow | undefined> {
    const [row] = await em.execute<ItemRow[]>(`${ITEMS} where id = ? and cart_id = ?`, [itemId, cartId]);
    return row && toItem(row);
  }

  /**
   * Adds units of a variant in one atomic upsert (concurrent adds sum). Adding to an existing line
   * is conditional: past `maxQuantity` nothing changes and undefined comes back; else the line's new quantity.
   */
  async addUnits(em: EntityManager, cartId: number, variantId: number, quantity: number, unitPrice: string, maxQuantity: number): Promise<number | undefined> {
    const [line] = await em.execute<{ quantity: number }[]>(
      `insert into cart_items (cart_id, variant_id, quantity, added_unit_price) values (?, ?, ?, ?)
       on conflict (cart_id, variant_id) do update
         set quantity = cart_items.quantity + excluded.quantity, updated_at = now()
         where cart_items.quantity + excluded.quantity <= ?
       returning quantity`,
      [cartId, variantId, quantity, unitPrice, maxQuantity],
    );
    return line?.quantity;
  }

  async setQuantity(em: EntityManager, itemId: number, quantity: number): Promise<void> {
    await em.execute('update cart_items set quantity = ?, updated_at = now() where id = ?', [quantity, itemId]);
  }

  /** Removes a line of the cart; whether there was one. */
  async removeItem(em: EntityManager, cartId: number, itemId: number): Promise<boolean> {
    const deleted = await em.execute<{ id: number }[]>('delete from cart_items where id = ? and cart_id = ? returning id', [itemId, cartId]);
    return deleted.length > 0;
  }

  async setCoupon(em: EntityManager, cartId: number, code: string | null): Promise<void> {
    await em.execute('update carts set coupon_code = ? where id = ?', [code, cartId]);
  }

  /** Empties a cart and forgets its code. */
  async empty(em: EntityManager, cartId: number): Promise<void> {
    await em.execute('delete from cart_items where cart_id = ?', [cartId]);
    await this.setCoupon(em, cartId, null);
  }

  /** Deletes up to `batchSize` carts unchanged for `ttlDays`, skipping locked ones; how many. */
  async deleteStale(em: EntityManager, ttlDays: number, batchSize: number): Promise<number> {
    const { affectedRows } = await em.execute<QueryResult>(
      `delete from carts where id in (
         select id from carts where updated_at < now() - make_interval(days => ?)
          order by updated_at limit ? for update skip locked)`,
      [ttlDays, batchSize],
      'run',
    );
    return affectedRows;
  }
}
