import type { EntityManager } from '@mikro-orm/postgresql';
import { toSlice } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import { toIso } from '../../shared/time';
import type { PageRequest, Slice } from '../../shared/paging';
import { CatalogErrors } from '../catalog/catalog.errors';
import { LIST_COLUMNS, type ProductRow } from '../catalog/discovery.sql';

export interface WishlistRow extends ProductRow {
  item_id: number;
  added_at: string | Date;
}

const COLUMNS = [...LIST_COLUMNS.map((c) => `p.${c}`), 'p.images[1] as image', 'wi.id as item_id', 'wi.created_at as added_at'].join(', ');

/** Products a user saved for later. */
export class WishlistService {
  /** The user's saved products that are still for sale, newest first (one statement). */
  async list(em: EntityManager, owner: Principal, page: PageRequest): Promise<Slice<WishlistRow>> {
    const params: unknown[] = [owner.id];
    const backward = page.kind === 'cursor' && page.before !== undefined;
    const boundary = page.kind === 'cursor' ? (page.before ?? page.after) : undefined;
    const dir = backward ? 'asc' : 'desc';
    let keyset = '';
    if (boundary) {
      keyset = ` and (wi.created_at, wi.id) ${backward ? '>' : '<'} (?::timestamptz, ?::int)`;
      params.push(...boundary);
    }
    const limit = page.kind === 'cursor' ? page.size + 1 : page.size;
    params.push(limit);
    let sql = `select ${COLUMNS}
                 from wishlists w
                 join wishlist_items wi on wi.wishlist_id = w.id
                 join products p on p.id = wi.product_id
                where w.user_id = ? and p.is_active${keyset}
                order by wi.created_at ${dir}, wi.id ${dir} limit ?`;
    if (page.kind === 'page') {
      sql += ' offset ?';
      params.push((page.page - 1) * page.size);
    }
    const rows = await em.execute<WishlistRow[]>(sql, params);
    return toSlice(rows, page, (r) => [toIso(r.added_at), r.item_id], backward);
  }

  /** Saves a product; saving it again keeps the one item. Returns the item and whether it is new. */
  async add(em: EntityManager, owner: Principal, productId: number): Promise<{ row: WishlistRow; created: boolean }> {
    const [product] = await em.execute<{ is_active: boolean }[]>('select is_active from products where id = ?', [productId]);
    if (!product?.is_active) throw CatalogErrors.unknownProduct(productId);
    const inserted = await em.execute<{ id: number }[]>(
      `with list as (
         insert into wishlists (user_id) values (?) on conflict (user_id) do update set updated_at = wishlists.updated_at returning id
       )
       insert into wishlist_items (wishlist_id, product_id) select id, ? from list
       on conflict (wishlist_id, product_id) do nothing returning id`,
      [owner.id, productId],
    );
    const [row] = await em.execute<WishlistRow[]>(
      `select ${COLUMNS} from wishlist_items wi join wishlists w on w.id = wi.wishlist_id join products p on p.id = wi.product_id
        where w.user_id = ? and wi.product_id = ?`,
      [owner.id, productId],
    );
    return { row, created: inserted.length > 0 };
  }

  /** Removes one of the owner's items; anyone else's answers 404. */
  async remove(em: EntityManager, owner: Principal, itemId: number): Promise<void> {
    const deleted = await em.execute<{ id: number }[]>(
      'delete from wishlist_items wi using wishlists w where wi.id = ? and w.id = wi.wishlist_id and w.user_id = ? returning wi.id',
      [itemId, owner.id],
    );
    if (deleted.length === 0) throw DomainError.notFound('The wishlist item');
  }
}
