import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { CatalogErrors } from '../catalog';
import { Review } from './review.entity';
import { ReviewErrors } from './reviews.errors';
import type { ReviewFilter, ReviewOrdering, ReviewsRepository } from './reviews.repository';

export type ReviewInput = components['schemas']['ReviewCreate'];
export type ReviewPatch = components['schemas']['ReviewUpdate'];
export type ReviewListInput = ReviewFilter & { ordering?: ReviewOrdering };

/** Answers whether a user bought a product (a paid order containing it); checkout answers. */
export interface PurchaseHistory {
  hasPurchased(em: EntityManager, userId: number, productId: number): Promise<boolean>;
}

/** What reviews need of the catalog: whether a product is listed, and where its rating goes. */
export interface RatedCatalog {
  isListed(em: EntityManager, productId: number): Promise<boolean>;
  recordRating(em: EntityManager, productId: number, rating: { average: string; count: number }): Promise<void>;
}

/**
 * Product reviews. Every change of a product's reviews is serialised per product and recomputes
 * its rating in the same transaction, so concurrent reviews never leave a stale aggregate.
 */
export class ReviewsService {
  constructor(
    private readonly reviews: ReviewsRepository,
    private readonly catalog: RatedCatalog,
    private readonly purchases: PurchaseHistory,
  ) {}

  /** Reviews of listed products, newest first by default (or by rating); by product and/or author. */
  list(em: EntityManager, input: ReviewListInput, pick: PagePicker): Promise<Listing<Review>> {
    const { ordering = '-created_at', ...filter } = input;
    return this.reviews.list(em, filter, ordering, pick);
  }

  /**
   * The newest `limit` reviews of each of several products (as `list` orders them), in a bounded
   * number of statements whatever the number of products.
   */
  async latestFor(em: EntityManager, productIds: readonly number[], limit: number): Promise<Map<number, Review[]>> {
    const byProduct = new Map<number, Review[]>(productIds.map((id) => [id, []]));
    if (!productIds.length || limit < 1) return byProduct;
    for (const r of await this.reviews.latestOf(em, productIds, limit)) byProduct.get(r.product.id)?.push(r);
    return byProduct;
  }

  async get(em: EntityManager, id: number, options: { refresh?: boolean } = {}): Promise<Review> {
    const review = await this.reviews.byId(em, id, options);
    if (!review) throw ReviewErrors.notFound();
    return review;
  }

  async create(em: EntityManager, author: Principal, input: ReviewInput): Promise<Review> {
    // One review per user and product: the unique constraint decides (the lock serialises the rest).
    const review = await refuseViolations(
      () =>
        em.transactional(async (tx) => {
          await this.reviews.lockProductReviews(tx, input.product);
          if (!(await this.catalog.isListed(tx, input.product))) throw CatalogErrors.unknownProduct(input.product);
          const review = new Review(author.id, input.product, input.rating);
          review.title = input.title?.trim() ?? '';
          review.comment = input.comment?.trim() ?? '';
          review.verifiedPurchase = await this.purchases.hasPurchased(tx, author.id, input.product);
          tx.persist(review);
          await tx.flush();
          await this.refreshRating(tx, input.product);
          return review;
        }),
      { unique: () => ReviewErrors.alreadyReviewed() },
    );
    return this.get(em, review.id);
  }

  /** The author edits their review; anyone else's answers 404. */
  async update(em: EntityManager, author: Principal, id: number, patch: ReviewPatch): Promise<Review> {
    await em.transactional(async (tx) => {
      const review = await this.reviews.byAuthor(tx, id, author.id);
      if (!review) throw ReviewErrors.notFound();
      await this.reviews.lockProductReviews(tx, review.product.id);
      if (patch.rating !== undefined) review.rating = patch.rating;
      if (patch.title !== undefined) review.title = patch.title.trim();
      if (patch.comment !== undefined) review.comment = patch.comment.trim();
      await tx.flush();
      await this.refreshRating(tx, review.product.id);
    });
    // Read back as stored (timestamps), without emptying the request's unit of work.
    return this.get(em, id, { refresh: true });
  }

  /** The author, or an admin moderating, deletes a review. */
  async delete(em: EntityManager, actor: Principal, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      const review = await this.reviews.byAuthor(tx, id, actor.id, actor.role === 'admin');
      if (!review) throw ReviewErrors.notFound();
      const productId = review.product.id;
      await this.reviews.lockProductReviews(tx, productId);
      tx.remove(review);
      await tx.flush();
      await this.refreshRating(tx, productId);
    });
  }

  private async refreshRating(em: EntityManager, productId: number): Promise<void> {
    await this.catalog.recordRating(em, productId, await this.reviews.ratingOf(em, productId));
  }
}
