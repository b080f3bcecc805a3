import type { EntityManager } from '@mikro-orm/postgresql';
import { slugify, suffixed } from '../../shared/slug';
import { Category } from './category.entity';
import { Product } from './product.entity';

/**
 * A slug made from a name that no row of the table uses yet (with a short random suffix when the
 * plain one is taken). A concurrent writer can still take it first: the unique index decides.
 */
export async function freeSlug(em: EntityManager, table: typeof Category | typeof Product, name: string): Promise<string> {
  const slug = slugify(name);
  const taken = table === Category ? await em.count(Category, { slug }) : await em.count(Product, { slug });
  return taken ? suffixed(slug) : slug;
}
