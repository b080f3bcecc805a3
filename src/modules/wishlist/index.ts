/** Wishlist: the products each user saved for later. Owns `wishlists` and `wishlist_items`. */
import { Wishlist, WishlistItem } from './wishlist.entity';

export { wishlistHandlers, type WishlistDeps } from './wishlist.handlers';
export { toWishlistItemDto } from './wishlist.mapper';
export { WishlistRepository } from './wishlist.repository';
export { WishlistService, type WishlistEntry } from './wishlist.service';

/** The entities this context maps. */
export const wishlistEntities = [Wishlist, WishlistItem];
