import type { Handlers } from '../../handlers';
import { toWishlistItemDto as toItem } from './wishlist.mapper';

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
