import type { EntityManager } from '@mikro-orm/postgresql';
import type { TaxClass } from '../../shared/tax-classes';
import { LISTED_PRODUCT_IDS, SELLABLE_SQL } from './access';
import { LIST_COLUMNS, type ProductRow } from './discovery.sql';

/** A variant as a cart and checkout see it: what it is, what it costs now, whether it can be sold. */
export interface SaleLine {
  variantId: number;
  sku: string;
  variantName: string;
  attributes: Record<string, string>;
  /** The current unit price (a decimal string). */
  price: string;
  stock: number;
  /** The variant and its product are both active. */
  sellable: boolean;
  productId: number;
  productName: string;
  slug: string;
  /** The product's first image, if any. */
  image: string | null;
  /** The shipping weight of one unit, in grams. */
  weightGrams: number;
  /** The product's tax class (which of a destination's rates applies). */
  taxClass: TaxClass;
}

const idArray = (ids: readonly number[]) => `{${ids.join(',')}}`;

/**
 * What the catalog tells other contexts (cart, wishlist, reviews, discounts, checkout), so none of
 * them reads the catalog's tables: sale lines for carts and checkout, list rows for saved products,
 * and which products are listed (see ./access.ts for the rules).
 */
export class CatalogReader {
  /** The variants as carts and checkout see them, by variant id (missing ids are left out; one statement). */
  async saleLines(em: EntityManager, variantIds: readonly number[]): Promise<Map<number, SaleLine>> {
    if (variantIds.length === 0) return new Map();
    const rows = await em.execute<
      { variant_id: number; sku: string; variant_name: string; attributes: Record<string, string>; price: string; stock: number; sellable: boolean; product_id: number; product_name: string; slug: string; image: string | null; weight_grams: number; tax_class: TaxClass }[]
    >(
      `select v.id as variant_id, v.sku, v.name as variant_name, v.attributes, v.price, v.stock, ${SELLABLE_SQL} as sellable,
              p.id as product_id, p.name as product_name, p.slug, p.images[1] as image, v.weight_grams, p.tax_class
         from product_variants v join products p on p.id = v.product_id
        where v.id = any(?::int[])`,
      [idArray(variantIds)],
    );
    return new Map(
      rows.map((r) => [
        r.variant_id,
        {
          variantId: r.variant_id,
          sku: r.sku,
          variantName: r.variant_name,
          attributes: r.attributes,
          price: r.price,
          stock: r.stock,
          sellable: r.sellable,
          productId: r.product_id,
          productName: r.product_name,
          slug: r.slug,
          image: r.image,
          weightGrams: r.weight_grams,
          taxClass: r.tax_class,
        },
      ]),
    );
  }

  /** One variant as `saleLines` shows it, or undefined. */
  async saleLine(em: EntityManager, variantId: number): Promise<SaleLine | undefined> {
    return (await this.saleLines(em, [variantId])).get(variantId);
  }

  /** Products as a list shows them (any status; callers filter), by id (one statement). */
  async listRows(em: EntityManager, productIds: readonly number[]): Promise<Map<number, ProductRow>> {
    if (productIds.length === 0) return new Map();
    const columns = [...LIST_COLUMNS.map((c) => `p.${c}`), 'p.images[1] as image'].join(', ');
    const rows = await em.execute<ProductRow[]>(`select ${columns} from products p where p.id = any(?::int[])`, [idArray(productIds)]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Whether shoppers see the product. */
  async isListed(em: EntityManager, productId: number): Promise<boolean> {
    const rows = await em.execute(`${LISTED_PRODUCT_IDS} and id = ?`, [productId]);
    return rows.length > 0;
  }

  /** The ids among `ids` that name a product (any status). */
  async existingProducts(em: EntityManager, ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await em.execute<{ id: number }[]>('select id from products where id = any(?::int[])', [idArray(ids)]);
    return rows.map((r) => r.id);
  }
}
