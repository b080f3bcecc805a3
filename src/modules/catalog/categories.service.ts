import { CheckConstraintViolationException, ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { constraintOf } from '../../db/errors';
import { findSlice } from '../../db/keyset';
import type { Principal } from '../../http/principal';
import type { PageRequest, Slice } from '../../shared/paging';
import { slugify, suffixed } from '../../shared/slug';
import { CatalogErrors } from './catalog.errors';
import { Category } from './category.entity';

type CategoryCreate = components['schemas']['CategoryCreate'];
type CategoryUpdate = components['schemas']['CategoryUpdate'];
export type CategoryListQuery = NonNullable<operations['listCategories']['parameters']['query']>;
export type CategoryNode = components['schemas']['CategoryNode'];
export interface Crumb {
  id: number;
  name: string;
  slug: string;
}

const isAdmin = (p: Principal | null) => p?.role === 'admin';

/** The category tree: CRUD, moves without cycles, the menu tree and breadcrumbs. */
export class CategoriesService {
  async list(em: EntityManager, viewer: Principal | null, query: CategoryListQuery, page: PageRequest): Promise<Slice<Category>> {
    const status = query.status ?? 'active';
    if (status !== 'active' && !isAdmin(viewer)) throw CatalogErrors.statusForbidden();
    const where: FilterQuery<Category> = {};
    if (status !== 'all') where.isActive = status === 'active';
    if (query.parent !== undefined) where.parent = query.parent === 0 ? null : query.parent;
    const ordering = query.ordering ?? 'name';
    const byName = ordering.endsWith('name');
    return findSlice(
      em,
      Category,
      where,
      byName
        ? { property: 'name', column: 'name', descending: ordering.startsWith('-'), key: (c) => c.name }
        : { property: 'id', column: 'id', descending: ordering.startsWith('-'), key: (c) => c.id },
      page,
    );
  }

  async get(em: EntityManager, viewer: Principal | null, id: number): Promise<Category> {
    const category = await em.findOne(Category, id);
    if (!category || (!category.isActive && !isAdmin(viewer))) throw CatalogErrors.categoryNotFound();
    return category;
  }

  /** Categories by id (one query), for the categories that products refer to; missing ids are left out. */
  async byIds(em: EntityManager, ids: readonly number[]): Promise<Map<number, Category>> {
    const found = ids.length ? await em.find(Category, { id: { $in: [...ids] } }) : [];
    return new Map(found.map((c) => [c.id, c]));
  }

  /** Every active category, nested, alphabetically at each level (one query). */
  async tree(em: EntityManager): Promise<CategoryNode[]> {
    const rows = await em.execute<{ id: number; name: string; slug: string; parent_id: number | null }[]>(
      'select id, name, slug, parent_id from categories where is_active order by name, id',
    );
    const nodes = new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, slug: r.slug, children: [] as CategoryNode[] }]));
    const roots: CategoryNode[] = [];
    for (const r of rows) {
      const parent = r.parent_id === null ? undefined : nodes.get(r.parent_id);
      // The child of an inactive parent is hidden with it.
      if (r.parent_id === null) roots.push(nodes.get(r.id)!);
      else parent?.children.push(nodes.get(r.id)!);
    }
    return roots;
  }

  async create(em: EntityManager, input: CategoryCreate): Promise<Category> {
    const category = new Category(input.name.trim(), input.slug ?? (await this.freeSlug(em, input.name)));
    category.description = input.description ?? '';
    if (input.is_active !== undefined) category.isActive = input.is_active;
    if (input.parent) category.parent = em.getReference(Category, await this.existing(em, input.parent), { wrapped: true });
    em.persist(category);
    await this.flush(em, category.slug);
    return category;
  }

  /** Renames, moves or (de)activates. Moves are serialised so two concurrent moves cannot make a cycle. */
  async update(em: EntityManager, id: number, patch: CategoryUpdate): Promise<Category> {
    return em.transactional(async (tx) => {
      const category = await tx.findOne(Category, id);
      if (!category) throw CatalogErrors.categoryNotFound();
      if (patch.parent !== undefined) {
        if (patch.parent === null) category.parent = null;
        else {
          await tx.execute(`select pg_advisory_xact_lock(hashtext('categories:tree'))`);
          await this.existing(tx, patch.parent);
          // A parent inside the category's own subtree is refused by the path trigger (see flush).
          category.parent = tx.getReference(Category, patch.parent, { wrapped: true });
        }
      }
      if (patch.name !== undefined) category.name = patch.name.trim();
      if (patch.slug !== undefined) category.slug = patch.slug;
      if (patch.description !== undefined) category.description = patch.description;
      if (patch.is_active !== undefined) category.isActive = patch.is_active;
      await this.flush(tx, category.slug);
      return category;
    });
  }

  /** Deletes an empty category. */
  async delete(em: EntityManager, id: number): Promise<void> {
    if (!(await em.count(Category, id))) throw CatalogErrors.categoryNotFound();
    try {
      await em.nativeDelete(Category, id);
    } catch (err) {
      // Products and subcategories hold it (foreign keys `on delete restrict`).
      if (err instanceof ForeignKeyConstraintViolationException) throw CatalogErrors.categoryNotEmpty();
      throw err;
    }
  }

  /** The id, if the category exists (else 422: the request names a missing category). */
  async existing(em: EntityManager, id: number): Promise<number> {
    if (!(await em.count(Category, id))) throw CatalogErrors.unknownCategory(id);
    return id;
  }

  private async freeSlug(em: EntityManager, name: string): Promise<string> {
    const slug = slugify(name);
    return (await em.count(Category, { slug })) ? suffixed(slug) : slug;
  }

  private async flush(em: EntityManager, slug: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw CatalogErrors.slugTaken(slug);
      // The trigger that keeps `categories.path` refuses a category under its own subtree.
      if (err instanceof CheckConstraintViolationException && constraintOf(err) === 'categories_no_cycle') throw CatalogErrors.categoryCycle();
      throw err;
    }
  }
}
