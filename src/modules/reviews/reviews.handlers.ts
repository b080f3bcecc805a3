import type { HandlerMap } from '../../http/operations';
import type { Pager } from '../../http/pagination';
import { toReviewDto } from './reviews.mapper';
import type { ReviewsService } from './reviews.service';

/** What the reviews' operations need from the composition root. */
export interface ReviewsDeps {
  reviews: ReviewsService;
  pager: Pager;
}

export const reviewsHandlers = {
  listReviews: async ({ em, query, services, selfUrl }) => {
    const reviews = await services.reviews.list(em, query, services.pager.request(query));
    return { status: 200, body: services.pager.envelope(selfUrl, reviews, toReviewDto) };
  },

  createReview: async ({ em, user, body, services, link }) => {
    const review = await services.reviews.create(em, user, body);
    return { status: 201, body: toReviewDto(review), headers: { Location: link('getReview', { id: review.id }) } };
  },

  getReview: async ({ em, path, services }) => ({ status: 200, body: toReviewDto(await services.reviews.get(em, path.id)) }),

  updateReview: async ({ em, user, path, body, services }) => ({ status: 200, body: toReviewDto(await services.reviews.update(em, user, path.id, body)) }),

  deleteReview: async ({ em, user, path, services }) => {
    await services.reviews.delete(em, user, path.id);
    return { status: 204 };
  },
} satisfies Partial<HandlerMap<ReviewsDeps>>;
