import type { components } from '../../../generated/openapi';
import type { Review } from './review.entity';

export function toReviewDto(r: Review): components['schemas']['Review'] {
  return {
    id: r.id,
    product: r.product.id,
    user: { id: r.user.id, username: r.user.getEntity().username },
    rating: r.rating,
    title: r.title,
    comment: r.comment,
    verified_purchase: r.verifiedPurchase,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
