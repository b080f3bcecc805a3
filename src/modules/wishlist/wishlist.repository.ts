import type { EntityManager } from '@mikro-orm/postgresql';
import { keyset, toSlice } from '../../db/keyset';
import type { PageRequest, Slice } from '../../shared/paging';
import { toIso } from '../../shared/time';

/** A saved product, as stored. */
export interface WishlistItemRow {
  id: number;
  productId: number;
  addedAt: string | Date;
}

type ItemRow = { id: number; product_id: number; added_at: string | Date };
const toItem = (r: ItemRow): WishlistItemRow => ({ id: r.id, productId: r.product_id, addedAt: r.added_at });

/**
 * The wishlist's SQL. Saving is one atomic statement (create the list on first use, then the item,
 * idempotently), which the unit of work cannot express; wishlist.entity.ts defines the tables.
 */
export class WishlistRepository {
  /**
   * A page of the user's items, newest first, keeping only products in `listed` (a subquery of
   * product ids the catalog provides), so a page is always full.
   */
  async page(em: EntityManager, userId: number, listed: string, page: PageRequest): Promise<Slice<WishlistItemRow>> {
    const params: unknown[] = [userId];
    const ks = keyset(page, true, (value) => (params.push(value), '?'));
    const after = ks.boundary('wi.created_at', 'wi.id', '::timestamptz');
    params.push(ks.limit);
    let sql = `select wi.id, wi.product_id, wi.created_at as added_at
                 from wishlists w join wishlist_items wi on wi.wishlist_id = w.id
                where w.user_id = ? and wi.product_id in (${listed})${after ? ` and ${after}` : ''}
                order by wi.created_at ${ks.dir}, wi.id ${ks.dir} limit ?`;
    if (page.kind === 'page') {
      sql += ' offset ?';
      params.push(ks.offset);
    }
    const rows = (await em.execute<ItemRow[]>(sql, params)).map(toItem);
    return toSlice(rows, page, (r) => [toIso(r.addedAt), r.id], ks.reversed);
  }

  /** Saves a product (creating the list on first use); saving it again keeps the one item. Whether it is new. */
  async save(em: EntityManager, userId: number, productId: number): Promise<boolean> {
    const inserted = await em.execute<{ id: number }[]>(
      `with list as (
         insert into wishlists (user_id) values (?) on conflict (user_id) do update set updated_at = wishlists.updated_at returning id
       )
       insert into wishlist_items (wishlist_id, product_id) select id, ? from list
       on conflict (wishlist_id, product_id) do nothing returning id`,
      [userId, productId],
    );
    return inserted.length > 0;
  }

  /** The user's item for a product. */
  async item(em: EntityManager, userId: number, productId: number): Promise<WishlistItemRow | undefined> {
    const [row] = await em.execute<ItemRow[]>(
      `select wi.id, wi.product_id, wi.created_at as added_at from wishlist_items wi join wishlists w on w.id = wi.wishlist_id
        where w.user_id = ? and wi.product_id = ?`,
      [userId, productId],
    );
    return row && toItem(row);
  }

  /** Removes one of the user's items; whether there was one. */
  async remove(em: EntityManager, userId: number, itemId: number): Promise<boolean> {
    const deleted = await em.execute<{ id: number }[]>(
      'delete from wishlist_items wi using wishlists w where wi.id = ? and w.id = wi.wishlist_id and w.user_id = ? returning wi.id',
      [itemId, userId],
    );
    return deleted.length > 0;
  }
}
