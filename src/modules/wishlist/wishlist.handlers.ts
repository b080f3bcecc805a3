import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toWishlistItemDto as toItem } from './wishlist.mapper';
import type { WishlistService } from './wishlist.service';

/** What the wishlist's operations need from the composition root. */
export interface WishlistDeps {
  wishlist: WishlistService;
  pager: Pager;
  currency: string;
}

export const wishlistHandlers = {
  getWishlist: async ({ em, user, query, services, selfUrl }) => {
    const items = await services.wishlist.list(em, user, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, items, (e) => toItem(e, services.currency)) };
  },

  addToWishlist: async ({ em, user, body, services }) => {
    const { entry, created } = await services.wishlist.add(em, user, body.product);
    return created ? { status: 201, body: toItem(entry, services.currency) } : { status: 200, body: toItem(entry, services.currency) };
  },

  removeFromWishlist: async ({ em, user, path, services }) => {
    await services.wishlist.remove(em, user, path.item_id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<WishlistDeps>>;
