/**
 * Who sees what in the catalog, in one place. A product is *listed* (shoppers see it) when it is
 * active; a variant is *sellable* when it and its product are active; inactive products and
 * variants are seen only by their vendor and admins.
 */
import type { Principal } from '../../shared/principal';
import { CatalogErrors } from './catalog.errors';
import type { Visibility } from './discovery.sql';

/**
 * The ids of the listed products, as a subquery another context's query may filter by
 * (`... and r.product_id in (<this>)`): its lists then page and count only what shoppers see, in
 * one statement, without knowing how the catalog decides it.
 */
export const LISTED_PRODUCT_IDS = 'select id from products where is_active';

/** "Sellable" over a variant `v` joined with its product `p`. */
export const SELLABLE_SQL = 'v.is_active and p.is_active';

/** "Sellable" as a filter on variants. */
export const SELLABLE_VARIANT = { isActive: true, product: { isActive: true } } as const;

/** Who may manage a product (see it inactive, change it): admins, and the vendor who sells it. */
export function mayManage(viewer: Principal | null, vendorId: number): boolean {
  return viewer?.role === 'admin' || (viewer?.role === 'vendor' && vendorId === viewer.id);
}

/** What the caller may list: the public catalog, or also inactive products (admins; vendors: their own). */
export function visibilityFor(viewer: Principal | null, status: 'active' | 'inactive' | 'all' = 'active'): Visibility {
  if (status === 'active') return { kind: 'public' };
  if (viewer?.role === 'admin') return { kind: 'admin', status };
  if (viewer?.role === 'vendor') return { kind: 'vendor', vendorId: viewer.id, status };
  throw CatalogErrors.statusForbidden();
}
