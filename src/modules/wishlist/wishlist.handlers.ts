import type { components } from '../../../generated/openapi';
import type { Handlers } from '../../handlers';
import { toIso } from '../../shared/time';
import { toProductSummaryDto } from '../catalog/catalog.mapper';
import type { WishlistRow } from './wishlist.service';

const toItem = (r: WishlistRow, currency: string): components['schemas']['WishlistItem'] => ({
  id: r.item_id,
  product: toProductSummaryDto(r, currency),
  added_at: toIso(r.added_at),
});

export const wishlistHandlers = {
  getWishlist: async ({ em, user, query, services, req, url }) => {
    const scope = 'wishlist:-added';
    const slice = await services.wishlist.list(em, user, services.pager.request(query, scope));
    return { status: 200, body: services.pager.envelope(url(req.originalUrl), scope, slice, (r) => toItem(r, services.currency)) };
  },

  addToWishlist: async ({ em, user, body, services }) => {
    const { row, created } = await services.wishlist.add(em, user, body.product);
    return created ? { status: 201, body: toItem(row, services.currency) } : { status: 200, body: toItem(row, services.currency) };
  },

  removeFromWishlist: async ({ em, user, path, services }) => {
    await services.wishlist.remove(em, user, path.item_id);
    return { status: 204 };
  },
} satisfies Partial<Handlers>;
