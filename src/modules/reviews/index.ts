/** Reviews: what users say about products, and the rating it adds up to. Owns the table `reviews`. */
import { Review } from './review.entity';

export { reviewsHandlers, type ReviewsDeps } from './reviews.handlers';
export { toReviewDto } from './reviews.mapper';
export { ReviewsRepository } from './reviews.repository';
export { ReviewsService, type PurchaseHistory, type RatedCatalog } from './reviews.service';

/** The entities this context maps. */
export const reviewsEntities = [Review];
