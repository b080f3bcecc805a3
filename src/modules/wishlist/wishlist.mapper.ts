import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import { toProductSummaryDto } from '../catalog';
import type { WishlistEntry } from './wishlist.service';

export function toWishlistItemDto(e: WishlistEntry, currency: string): components['schemas']['WishlistItem'] {
  return {
    id: e.itemId,
    product: toProductSummaryDto(e.product, currency),
    added_at: toIso(e.addedAt),
  };
}
