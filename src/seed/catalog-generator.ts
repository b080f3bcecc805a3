import { fromMinor } from '../shared/money';
import { ADJECTIVES, brandNames, DEPARTMENTS, type Department, MODEL_SUFFIXES, SHOP_WORDS } from './catalog-words';
import { itemAt, Random, Weighted } from './random';

/**
 * The synthetic catalog (pure: no I/O): the same options always give the same rows, ids included.
 *
 * - A category tree (10 departments × 6 categories × 6 sub-categories; products on the leaves, with
 *   skewed sizes), 200 brands drawn with a Zipf-like skew (rotated per department), vendors drawn
 *   with a skew too, log-normal prices by department, 1-3 variants per product (some out of stock,
 *   some inactive), ~5% inactive products, ratings, image URLs. Timestamps are spread over the two
 *   years before `until`.
 * - Product aggregates (price = lowest active variant price, max_price, stock = sum of active
 *   variant stock, in_stock) are computed here, exactly as `refresh_product_aggregates()` would, so
 *   the loader can disable the per-row variant trigger.
 * - Products and variants come out as COPY text lines (catalog-loader.ts streams them).
 *
 * Every random draw is made in a fixed order from named streams (see random.ts): reordering draws
 * changes the generated rows for a given seed.
 */

const DAY_MS = 86_400_000;

export interface CategoryRow {
  id: number;
  parentId: number | null;
  name: string;
  slug: string;
  description: string;
  depth: 0 | 1 | 2;
  department: number;
}

/** A sub-category (depth 2) with what its products are made of. */
interface LeafSpec {
  category: CategoryRow;
  department: Department;
  nouns: readonly string[];
  qualifier: string;
}

interface Leaf extends LeafSpec {
  priceFactor: number;
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The tree's rows, breadth first (departments with ids 1-10, their categories, then sub-categories), and its leaves. */
function buildTree(): { rows: CategoryRow[]; leaves: LeafSpec[] } {
  let id = 0;
  const roots = DEPARTMENTS.map((department, i) => {
    const row: CategoryRow = {
      id: ++id, parentId: null, name: department.name, slug: slugify(department.name), depth: 0, department: i,
      description: `${department.name}: ${department.categories.map((c) => c.name.toLowerCase()).join(', ')}.`,
    };
    return { department, row };
  });
  const mids = roots.flatMap(({ department, row: root }) =>
    department.categories.map((category) => {
      const row: CategoryRow = {
        id: ++id, parentId: root.id, name: category.name, slug: `${root.slug}-${slugify(category.name)}`, depth: 1, department: root.department,
        description: `${category.nouns.join(', ')} and more.`,
      };
      return { department, category, row };
    }),
  );
  const leaves = mids.flatMap(({ department, category, row: mid }) =>
    department.qualifiers.map((qualifier): LeafSpec => ({
      category: {
        id: ++id, parentId: mid.id, name: `${qualifier} ${mid.name}`, slug: `${mid.slug}-${slugify(qualifier)}`, depth: 2, department: mid.department,
        description: `${qualifier} ${mid.name.toLowerCase()}.`,
      },
      department,
      nouns: category.nouns,
      qualifier,
    })),
  );
  return { rows: [...roots.map((r) => r.row), ...mids.map((m) => m.row), ...leaves.map((l) => l.category)], leaves };
}

/** The category tree, breadth first: departments (ids 1-10), their categories, then sub-categories. */
export function categoryTree(): CategoryRow[] {
  return buildTree().rows;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The seed vendors' usernames: vendor001, vendor002... */
export function vendorUsernames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `vendor${pad(i + 1, 3)}`);
}

/** The vendor accounts created in one go, in creation order, with their shop names (their first_name). */
export function vendorShops(usernames: readonly string[]): { username: string; shop: string }[] {
  const shops = new Random(0, 'vendors');
  const brands = brandNames(400).slice(200);
  return usernames.map((username) => ({ username, shop: `${shops.pick(brands)} ${shops.pick(SHOP_WORDS)}` }));
}

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function esc(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : value;
}

/** A price in cents with a shop-like ending (.99 mostly, some .49 and .00). */
function shopPrice(cents: number, r: Random): number {
  const euros = Math.max(1, Math.round(cents / 100));
  const ending = r.next();
  if (ending < 0.7) return euros * 100 - 1;
  if (ending < 0.85) return euros * 100 - 51 > 0 ? euros * 100 - 51 : euros * 100 - 1;
  return euros * 100;
}

export interface GeneratedChunk {
  /** COPY text lines for up to 1,000 products, and for their variants. */
  products: string;
  variants: string;
  productCount: number;
  variantCount: number;
}

export class CatalogGenerator {
  readonly categories: CategoryRow[];
  readonly brands: string[];
  private readonly leaves: Leaf[];
  private readonly leafPicker: Weighted;
  private readonly brandPicker: Weighted;
  private readonly vendorPicker: Weighted;
  private readonly random: Random;
  private readonly start: number;
  private readonly span: number;
  private nextVariantId = 1;

  constructor(
    private readonly options: { products: number; seed: number; vendorIds: number[]; brands: number; until: Date },
  ) {
    const tree = buildTree();
    this.categories = tree.rows;
    this.brands = brandNames(options.brands);
    const shape = new Random(options.seed, 'categories');
    this.leaves = tree.leaves.map((leaf) => ({ ...leaf, priceFactor: Math.exp(0.25 * shape.normal()) }));
    // Some sub-categories are much larger than others.
    this.leafPicker = new Weighted(this.leaves.map(() => Math.exp(0.8 * shape.normal())));
    this.brandPicker = Weighted.zipf(this.brands.length, 1.07);
    this.vendorPicker = Weighted.zipf(options.vendorIds.length, 0.8);
    this.random = new Random(options.seed, 'products');
    this.span = 730 * DAY_MS;
    this.start = options.until.getTime() - this.span;
  }

  get leafCount(): number {
    return this.leaves.length;
  }

  /** The categories' created_at and updated_at: 30 days before the first product. */
  get categoriesCreatedAt(): Date {
    return new Date(this.start - 30 * DAY_MS);
  }

  /** Products `first`..`last` (ids), in order, with their variants, in chunks of `size` products. */
  *chunks(first: number, last: number, size = 1000): Generator<GeneratedChunk> {
    for (let start = first; start <= last; start += size) {
      const end = Math.min(last, start + size - 1);
      let products = '';
      let variants = '';
      let variantCount = 0;
      for (let id = start; id <= end; id++) {
        const generated = this.product(id);
        products += generated.product;
        variants += generated.variants;
        variantCount += generated.variantCount;
      }
      yield { products, variants, productCount: end - start + 1, variantCount };
    }
  }

  private product(id: number): { product: string; variants: string; variantCount: number } {
    const r = this.random;
    const leaf = itemAt(this.leaves, this.leafPicker.draw(r));
    const dept = leaf.department;
    // Each department has its own leading brands: rotate the Zipf ranks by department.
    const brand = itemAt(this.brands, (this.brandPicker.draw(r) + leaf.category.department * 20) % this.brands.length);
    const vendorId = itemAt(this.options.vendorIds, this.vendorPicker.draw(r));
    const noun = r.pick(leaf.nouns);
    const adjective = r.chance(0.45) ? leaf.qualifier : r.pick(ADJECTIVES);
    let name = `${brand} ${adjective} ${noun}`;
    if (r.chance(0.55)) name += ` ${r.pick(MODEL_SUFFIXES)}${r.chance(0.5) ? ` ${r.between(2, 9)}` : ''}`;
    const slug = `${slugify(name)}-${id}`;
    const sku = `${slugify(brand).slice(0, 3).toUpperCase()}-${pad(id, 8)}`;

    const features = r.sample(dept.features, 2);
    const uses = r.sample(dept.uses, 2);
    let description =
      `The ${name} is made from ${r.pick(dept.materials)}. It comes with ${itemAt(features, 0)} and ${itemAt(features, 1)}. ` +
      `Designed for ${itemAt(uses, 0)}${r.chance(0.5) ? ` and ${itemAt(uses, 1)}` : ''}; part of our ${leaf.category.name.toLowerCase()} range.`;
    if (r.chance(0.4)) description += ` ${brand} has made ${leaf.category.name.toLowerCase()} since ${r.between(1950, 2020)}.`;

    // Created over two years, roughly in id order (as auto-increment ids are), to the millisecond.
    const base = this.start + ((id - 0.5) / this.options.products) * this.span;
    const createdMs = Math.min(this.start + this.span - 1, Math.max(this.start, Math.floor(base + (r.next() - 0.5) * 6 * 3_600_000)));
    const updatedMs = Math.min(this.start + this.span - 1, createdMs + r.int(60 * DAY_MS));
    const created = new Date(createdMs).toISOString();
    const updated = new Date(updatedMs).toISOString();
    const isActive = !r.chance(0.05);

    const images: string[] = [];
    const imageCount = r.between(1, 4);
    for (let k = 1; k <= imageCount; k++) images.push(`"https://cdn.example.com/products/${id}/${k}.jpg"`);

    // Variants: distinct values along the department's first axis; a second axis value shared.
    const baseCents = shopPrice(dept.medianCents * leaf.priceFactor * Math.exp(dept.sigma * r.normal()), r);
    const variantTotal = r.chance(0.5) ? 1 : r.chance(0.6) ? 2 : 3;
    const [axis, second] = dept.axes;
    if (!axis) throw new Error(`department ${dept.name} has no variant axis`);
    // [index, value] pairs, sorted by index: the index also sets the variant's price step.
    const picks = r.sample([...axis.values.entries()], Math.min(variantTotal, axis.values.length)).sort(([a], [b]) => a - b);
    const secondValue = second ? r.pick(second.values) : undefined;
    const priced = r.chance(0.5);
    let variants = '';
    let minActive = Infinity, maxActive = -Infinity, minAll = Infinity, maxAll = -Infinity, stock = 0, anyActive = false;
    for (const [k, [valueIndex, value]] of picks.entries()) {
      const cents = priced && k > 0 ? shopPrice(baseCents * (1 + 0.12 * valueIndex), r) : baseCents;
      const variantStock = r.chance(0.12) ? 0 : Math.min(9999, Math.floor(Math.exp(2.5 + 1.2 * r.normal())) + 1);
      const variantActive = !r.chance(0.04);
      const attributes: Record<string, string> = { [axis.name]: value };
      if (second && secondValue) attributes[second.name] = secondValue;
      const variantName = secondValue ? `${value} / ${secondValue}` : value;
      minAll = Math.min(minAll, cents);
      maxAll = Math.max(maxAll, cents);
      if (variantActive) {
        anyActive = true;
        minActive = Math.min(minActive, cents);
        maxActive = Math.max(maxActive, cents);
        stock += variantStock;
      }
      variants +=
        [this.nextVariantId++, created, updated, id, `${sku}-${k + 1}`, esc(variantName), esc(JSON.stringify(attributes)), fromMinor(cents), variantStock, variantActive ? 't' : 'f'].join('\t') + '\n';
    }
    // As refresh_product_aggregates(): active variants, else the range of all and no stock.
    const price = anyActive ? minActive : minAll;
    const maxPrice = anyActive ? maxActive : maxAll;

    const rated = r.chance(0.65);
    const ratingCount = rated ? Math.min(20_000, 1 + Math.floor(Math.exp(1.5 + 1.4 * r.normal()))) : 0;
    const ratingAvg = rated ? Math.min(500, Math.max(100, Math.round((4.1 + 0.55 * r.normal()) * 100))) : 0;

    const product =
      [
        id, created, updated, vendorId, leaf.category.id, esc(name), esc(slug), esc(description), esc(brand), sku,
        esc(`{${images.join(',')}}`), isActive ? 't' : 'f', fromMinor(price), fromMinor(maxPrice), stock, stock > 0 ? 't' : 'f',
        fromMinor(ratingAvg), ratingCount,
      ].join('\t') + '\n';
    return { product, variants, variantCount: picks.length };
  }
}
