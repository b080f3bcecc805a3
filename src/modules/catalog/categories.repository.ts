import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { Category } from './category.entity';

export type CategoryOrdering = 'name' | '-name' | 'id' | '-id';

export interface CategoryFilter {
  /** true: active only; false: inactive only; undefined: both. */
  isActive?: boolean;
  /** Direct children of this category; null: the top level. */
  parent?: number | null;
}

/** A step of a product's breadcrumbs. */
export interface Crumb {
  id: number;
  name: string;
  slug: string;
}

export interface CategoryRow extends Crumb {
  parent_id: number | null;
}

/** The category tree's queries. */
export class CategoriesRepository {
  list(em: EntityManager, filter: CategoryFilter, ordering: CategoryOrdering, pick: PagePicker): Promise<Listing<Category>> {
    const where: FilterQuery<Category> = {};
    if (filter.isActive !== undefined) where.isActive = filter.isActive;
    if (filter.parent !== undefined) where.parent = filter.parent;
    const descending = ordering.startsWith('-');
    const order = ordering.endsWith('name')
      ? { property: 'name' as const, column: 'name', descending, key: (c: Category) => c.name }
      : { property: 'id' as const, column: 'id', descending, key: (c: Category) => c.id };
    return findListing(em, Category, where, order, `categories:${ordering}`, pick);
  }

  byId(em: EntityManager, id: number): Promise<Category | null> {
    return em.findOne(Category, id);
  }

  byIds(em: EntityManager, ids: readonly number[]): Promise<Category[]> {
    return ids.length ? em.find(Category, { id: { $in: [...ids] } }) : Promise.resolve([]);
  }

  async exists(em: EntityManager, id: number): Promise<boolean> {
    return (await em.count(Category, id)) > 0;
  }

  /** Every active category, alphabetically (one statement). */
  activeRows(em: EntityManager): Promise<CategoryRow[]> {
    return em.execute<CategoryRow[]>('select id, name, slug, parent_id from categories where is_active order by name, id');
  }

  /** Serialises moves in the tree (inside the caller's transaction). */
  async lockTree(em: EntityManager): Promise<void> {
    await em.execute(`select pg_advisory_xact_lock(hashtext('categories:tree'))`);
  }

  /** Deletes the category (the foreign keys refuse it while products or subcategories hold it). */
  async delete(em: EntityManager, id: number): Promise<void> {
    await em.nativeDelete(Category, id);
  }
}
