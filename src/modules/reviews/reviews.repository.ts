import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { Review } from './review.entity';

export type ReviewOrdering = '-created_at' | 'created_at' | '-rating' | 'rating';

export interface ReviewFilter {
  product?: number;
  user?: number;
}

/**
 * The reviews' queries. Reviews of products shoppers cannot see are hidden: every read keeps only
 * products in `listed`, the catalog's subquery of listed product ids.
 */
export class ReviewsRepository {
  constructor(private readonly listed: string) {}

  /** Only reviews of listed products (on the root alias, so pages and counts agree). */
  private ofListed(): FilterQuery<Review> {
    return { [raw((alias) => `${alias}.product_id in (${this.listed})`)]: [] };
  }

  async list(em: EntityManager, filter: ReviewFilter, ordering: ReviewOrdering, pick: PagePicker): Promise<Listing<Review>> {
    const where: FilterQuery<Review>[] = [this.ofListed()];
    if (filter.product !== undefined) where.push({ product: filter.product });
    if (filter.user !== undefined) where.push({ user: filter.user });
    const descending = ordering.startsWith('-');
    const order = ordering.endsWith('rating')
      ? { property: 'rating' as const, column: 'rating', descending, key: (r: Review) => r.rating }
      : { property: 'createdAt' as const, column: 'created_at', descending, key: (r: Review) => r.createdAt.toISOString() };
    const listing = await findListing(em, Review, { $and: where }, order, `reviews:${ordering}`, pick);
    await em.populate(listing.slice.items, ['user']);
    return listing;
  }

  /** A review of a listed product, with its author. */
  byId(em: EntityManager, id: number, options: { refresh?: boolean } = {}): Promise<Review | null> {
    return em.findOne(Review, { $and: [{ id }, this.ofListed()] }, { populate: ['user'], refresh: options.refresh });
  }

  /** A review the user may change: their own, or any (`anyAuthor`, admins moderating). */
  byAuthor(em: EntityManager, id: number, userId: number, anyAuthor = false): Promise<Review | null> {
    return em.findOne(Review, anyAuthor ? { id } : { id, user: userId });
  }

  /** The newest `limit` reviews of each of several listed products, with their authors (two statements). */
  async latestOf(em: EntityManager, productIds: readonly number[], limit: number): Promise<Review[]> {
    const ranked = await em.execute<{ id: number }[]>(
      `select id from (select r.id, row_number() over (partition by r.product_id order by r.created_at desc, r.id desc) as n
         from reviews r where r.product_id = any(?::int[]) and r.product_id in (${this.listed})) ranked where n <= ?`,
      [`{${productIds.join(',')}}`, limit],
    );
    if (!ranked.length) return [];
    return em.find(Review, { id: { $in: ranked.map((r) => r.id) } }, { orderBy: { createdAt: 'desc', id: 'desc' }, populate: ['user'] });
  }

  /** A product's rating aggregates from its reviews: the average to two decimals, and how many. */
  async ratingOf(em: EntityManager, productId: number): Promise<{ average: string; count: number }> {
    const [row] = await em.execute<{ average: string; count: number }[]>(
      'select coalesce(round(avg(rating), 2), 0)::text as average, count(*)::int as count from reviews where product_id = ?',
      [productId],
    );
    return { average: row?.average ?? '0', count: row?.count ?? 0 };
  }

  /** Serialises the review changes of one product, so its aggregates are recomputed one change at a time. */
  async lockProductReviews(em: EntityManager, productId: number): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`reviews:product:${productId}`]);
  }
}
