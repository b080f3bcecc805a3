import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { findSlice } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import { DomainError } from '../../shared/errors';
import type { PageRequest, Slice } from '../../shared/paging';
import { User } from '../accounts/user.entity';
import { CatalogErrors } from '../catalog/catalog.errors';
import { Product } from '../catalog/product.entity';
import { Review } from './review.entity';

type ReviewCreate = components['schemas']['ReviewCreate'];
type ReviewUpdate = components['schemas']['ReviewUpdate'];
export type ReviewListQuery = NonNullable<operations['listReviews']['parameters']['query']>;

/** Answers whether a user bought a product (a paid order containing it). */
export interface PurchaseHistory {
  hasPurchased(em: EntityManager, userId: number, productId: number): Promise<boolean>;
}

const notFound = () => DomainError.notFound('The review');
const alreadyReviewed = () => new DomainError('conflict', 'ALREADY_REVIEWED', 'You already reviewed this product; edit that review instead.');

/**
 * Product reviews. Every change locks the product row first, then recomputes its rating average
 * and count in the same transaction, so concurrent reviews never leave a stale aggregate.
 */
export class ReviewsService {
  constructor(private readonly purchases: PurchaseHistory) {}

  list(em: EntityManager, query: ReviewListQuery, page: PageRequest): Promise<Slice<Review>> {
    const where: FilterQuery<Review> = { product: { isActive: true } };
    if (query.product !== undefined) where.product = { id: query.product, isActive: true };
    if (query.user !== undefined) where.user = query.user;
    const ordering = query.ordering ?? '-created_at';
    const descending = ordering.startsWith('-');
    const order = ordering.endsWith('rating')
      ? { property: 'rating' as const, column: 'rating', descending, key: (r: Review) => r.rating }
      : { property: 'createdAt' as const, column: 'created_at', descending, key: (r: Review) => r.createdAt.toISOString() };
    return findSlice(em, Review, where, order, page).then(async (slice) => {
      await em.populate(slice.items, ['user']);
      return slice;
    });
  }

  /**
   * The newest `limit` reviews of each of several active products (as `list` orders them), in a bounded
   * number of statements whatever the number of products: the reviews, then their authors.
   */
  async latestFor(em: EntityManager, productIds: readonly number[], limit: number): Promise<Map<number, Review[]>> {
    const byProduct = new Map<number, Review[]>(productIds.map((id) => [id, []]));
    if (!productIds.length || limit < 1) return byProduct;
    const ranked = await em.execute<{ id: number }[]>(
      `select id from (select r.id, row_number() over (partition by r.product_id order by r.created_at desc, r.id desc) as n
         from reviews r join products p on p.id = r.product_id where p.is_active and r.product_id = any(?::int[])) ranked where n <= ?`,
      [`{${productIds.join(',')}}`, limit],
    );
    if (!ranked.length) return byProduct;
    const reviews = await em.find(Review, { id: { $in: ranked.map((r) => r.id) } }, { orderBy: { createdAt: 'desc', id: 'desc' }, populate: ['user'] });
    for (const r of reviews) byProduct.get(r.product.id)?.push(r);
    return byProduct;
  }

  async get(em: EntityManager, id: number, options: { refresh?: boolean } = {}): Promise<Review> {
    const review = await em.findOne(Review, { id, product: { isActive: true } }, { populate: ['user'], refresh: options.refresh });
    if (!review) throw notFound();
    return review;
  }

  async create(em: EntityManager, author: Principal, input: ReviewCreate): Promise<Review> {
    const review = await em.transactional(async (tx) => {
      const product = await this.lockProduct(tx, input.product);
      if (!product?.isActive) throw CatalogErrors.unknownProduct(input.product);
      const review = new Review(tx.getReference(User, author.id, { wrapped: true }), tx.getReference(Product, input.product, { wrapped: true }), input.rating);
      review.title = input.title?.trim() ?? '';
      review.comment = input.comment?.trim() ?? '';
      review.verifiedPurchase = await this.purchases.hasPurchased(tx, author.id, input.product);
      tx.persist(review);
      await tx.flush();
      await this.refreshRating(tx, input.product);
      return review;
    }).catch((err) => {
      // One review per user and product: the unique constraint decides (the product lock serialises the rest).
      if (err instanceof UniqueConstraintViolationException) throw alreadyReviewed();
      throw err;
    });
    return this.get(em, review.id);
  }

  /** The author edits their review; anyone else's answers 404. */
  async update(em: EntityManager, author: Principal, id: number, patch: ReviewUpdate): Promise<Review> {
    await em.transactional(async (tx) => {
      const review = await tx.findOne(Review, { id, user: author.id });
      if (!review) throw notFound();
      await this.lockProduct(tx, review.product.id);
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
      const review = await tx.findOne(Review, actor.role === 'admin' ? { id } : { id, user: actor.id });
      if (!review) throw notFound();
      const productId = review.product.id;
      await this.lockProduct(tx, productId);
      tx.remove(review);
      await tx.flush();
      await this.refreshRating(tx, productId);
    });
  }

  private lockProduct(em: EntityManager, productId: number): Promise<Product | null> {
    return em.findOne(Product, productId, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  private async refreshRating(em: EntityManager, productId: number): Promise<void> {
    await em.execute(
      `update products set
         rating_avg = coalesce((select round(avg(rating), 2) from reviews where product_id = ?), 0),
         rating_count = (select count(*) from reviews where product_id = ?)
       where id = ?`,
      [productId, productId, productId],
    );
  }
}
