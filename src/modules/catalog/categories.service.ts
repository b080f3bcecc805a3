import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { refuseViolations } from '../../db/errors';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import type { CategoriesRepository, CategoryOrdering } from './categories.repository';
import { CatalogErrors } from './catalog.errors';
import { Category } from './category.entity';
import { freeSlug } from './slugs';

export type CategoryInput = components['schemas']['CategoryCreate'];
export type CategoryPatch = components['schemas']['CategoryUpdate'];
export type CategoryNode = components['schemas']['CategoryNode'];

export interface CategoryListInput {
  /** `active` (the default) for everyone; admins may ask for `inactive` or `all`. */
  status?: 'active' | 'inactive' | 'all';
  /** Direct children of this category; 0 for the top level. */
  parent?: number;
  /** Default: by name. */
  ordering?: CategoryOrdering;
}

const isAdmin = (p: Principal | null) => p?.role === 'admin';

/** The category tree: CRUD, moves without cycles, the menu tree. */
export class CategoriesService {
  constructor(private readonly categories: CategoriesRepository) {}

  list(em: EntityManager, viewer: Principal | null, input: CategoryListInput, pick: PagePicker): Promise<Listing<Category>> {
    const status = input.status ?? 'active';
    if (status !== 'active' && !isAdmin(viewer)) throw CatalogErrors.statusForbidden();
    const filter = {
      isActive: status === 'all' ? undefined : status === 'active',
      parent: input.parent === undefined ? undefined : input.parent === 0 ? null : input.parent,
    };
    return this.categories.list(em, filter, input.ordering ?? 'name', pick);
  }

  async get(em: EntityManager, viewer: Principal | null, id: number): Promise<Category> {
    const category = await this.categories.byId(em, id);
    if (!category || (!category.isActive && !isAdmin(viewer))) throw CatalogErrors.categoryNotFound();
    return category;
  }

  /** Categories by id (one statement), for the categories that products refer to; missing ids are left out. */
  async byIds(em: EntityManager, ids: readonly number[]): Promise<Map<number, Category>> {
    return new Map((await this.categories.byIds(em, ids)).map((c) => [c.id, c]));
  }

  /** Every active category, nested, alphabetically at each level (one statement). */
  async tree(em: EntityManager): Promise<CategoryNode[]> {
    const rows = await this.categories.activeRows(em);
    const nodes = new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, slug: r.slug, children: [] as CategoryNode[] }]));
    const roots: CategoryNode[] = [];
    for (const r of rows) {
      const node = nodes.get(r.id)!;
      // The child of an inactive parent is hidden with it.
      if (r.parent_id === null) roots.push(node);
      else nodes.get(r.parent_id)?.children.push(node);
    }
    return roots;
  }

  async create(em: EntityManager, input: CategoryInput): Promise<Category> {
    const category = new Category(input.name.trim(), input.slug ?? (await freeSlug(em, Category, input.name)));
    category.description = input.description ?? '';
    if (input.is_active !== undefined) category.isActive = input.is_active;
    if (input.parent) category.parent = em.getReference(Category, await this.existing(em, input.parent), { wrapped: true });
    em.persist(category);
    await this.flush(em, category.slug);
    return category;
  }

  /** Renames, moves or (de)activates. Moves are serialised so two concurrent moves cannot make a cycle. */
  async update(em: EntityManager, id: number, patch: CategoryPatch): Promise<Category> {
    return em.transactional(async (tx) => {
      const category = await this.categories.byId(tx, id);
      if (!category) throw CatalogErrors.categoryNotFound();
      if (patch.parent !== undefined) {
        if (patch.parent === null) category.parent = null;
        else {
          await this.categories.lockTree(tx);
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
    if (!(await this.categories.exists(em, id))) throw CatalogErrors.categoryNotFound();
    // Products and subcategories hold it (foreign keys `on delete restrict`).
    await refuseViolations(() => this.categories.delete(em, id), { foreignKey: () => CatalogErrors.categoryNotEmpty() });
  }

  /** The id, if the category exists (else 422: the request names a missing category). */
  async existing(em: EntityManager, id: number): Promise<number> {
    if (!(await this.categories.exists(em, id))) throw CatalogErrors.unknownCategory(id);
    return id;
  }

  private flush(em: EntityManager, slug: string): Promise<void> {
    return refuseViolations(() => em.flush(), {
      unique: () => CatalogErrors.slugTaken(slug),
      // The trigger that keeps `categories.path` refuses a category under its own subtree.
      check: (constraint) => (constraint === 'categories_no_cycle' ? CatalogErrors.categoryCycle() : undefined),
    });
  }
}
