import type { components } from '../../../generated/openapi';
import { toIso } from '../../shared/time';
import { toProductSummaryDto } from '../catalog/catalog.mapper';
import type { WishlistRow } from './wishlist.service';

export function toWishlistItemDto(r: WishlistRow, currency: string): components['schemas']['WishlistItem'] {
  return {
    id: r.item_id,
    product: toProductSummaryDto(r, currency),
    added_at: toIso(r.added_at),
  };
}
