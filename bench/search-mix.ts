/**
 * The search mix of `npm run bench` (scenario (c)): a realistic sequence of storefront searches
 * instead of one query, built from the generated catalog's own vocabulary (src/seed/catalog-words.ts),
 * so that queries really hit. Pure and seeded: the same options always give the same sequence.
 *
 * Composition (150 query texts, in lower case as shoppers type them, spread over the 10 departments):
 * - 45 one-word: a noun's head word ("headphones", "wallet"), a sub-category qualifier ("wireless")
 *   or a one-word material ("bamboo");
 * - 50 multi-word (2-3 words): qualifier + noun ("wireless headphones", as in the sub-category's
 *   name), material + noun ("leather wallet": the material is in the description) or noun + a word
 *   of a use ("tent camping");
 * - 30 brand: a brand alone or brand + noun, among the department's leading brands (the generator
 *   ranks its 200 brands with a Zipf skew rotated by department);
 * - 25 typos: a one- or two-word name query (noun, qualifier + noun, brand + noun) with one letter
 *   dropped (or, less often, two adjacent letters swapped) in one word, away from its ending so that
 *   stemming cannot undo it: full text finds nothing and the API falls back to trigram similarity on
 *   names (which, as for real typos, finds nothing for some of them).
 * Each text is searched with and without a category filter (the department's or the noun's
 * category's slug, alternately): 300 distinct searches. Their popularity follows a Zipf law with
 * s = 1 (rank r drawn with probability ∝ 1/r), ranks dealt by a seeded shuffle so that the head
 * mixes every kind; the requests are drawn in that order (20,000 by default) and replayed in a cycle.
 *
 * Paths: `/api/product/?search=<q>[&category=<slug>]` (ordering defaults to relevance with a search).
 */
import { categoryTree, slugify } from '../src/seed/catalog-generator';
import { brandNames, DEPARTMENTS, type Department } from '../src/seed/catalog-words';
import { itemAt, Random, Weighted } from '../src/seed/random';

export type SearchKind = 'one-word' | 'multi-word' | 'brand' | 'typo';

/** How many query texts of each kind (each searched with and without a category filter). */
export const MIX_KINDS: Readonly<Record<SearchKind, number>> = { 'one-word': 45, 'multi-word': 50, brand: 30, typo: 25 };

export interface SearchQuery {
  kind: SearchKind;
  text: string;
  /** The category slug of the filtered form. */
  category: string;
}

/** One distinct search: a query text, filtered or not. */
export interface SearchRequest {
  query: SearchQuery;
  filtered: boolean;
  path: string;
}

export interface SearchMix {
  queries: SearchQuery[];
  /** Every distinct search, by popularity rank (most popular first). */
  requests: SearchRequest[];
  /** The drawn sequence of paths. */
  paths: string[];
  skew: number;
  /** Share of the drawn requests that go to the 10 most popular searches. */
  top10Share: number;
  /** How many distinct searches the drawn sequence holds. */
  drawnDistinct: number;
}

export interface SearchMixOptions {
  seed?: number;
  /** Length of the drawn sequence. */
  requests?: number;
  /** The Zipf exponent. */
  skew?: number;
  /** The catalog's brand count (the seed's default: 200). */
  brands?: number;
}

const words = (text: string) => text.toLowerCase().split(/\s+/);
const lower = (text: string) => text.toLowerCase();

/** The nouns of a department, each with the slug of its category. */
function nounsOf(dept: Department, deptSlug: string): { noun: string; category: string }[] {
  return dept.categories.flatMap((c) => c.nouns.map((noun) => ({ noun: lower(noun), category: `${deptSlug}-${slugify(c.name)}` })));
}

/**
 * `word` with one letter dropped or two adjacent (different) letters swapped, at a position at least
 * one letter from the start and three from the end: a plural's or a verb's ending stays, so the
 * stemmer cannot map the typo back onto the word. Undefined for words under 6 letters (too few
 * trigrams left for the fallback to find the word).
 */
function typoOf(word: string, r: Random): string | undefined {
  if (word.length < 6 || !/^[a-z]+$/.test(word)) return undefined;
  const at = r.between(1, word.length - 4);
  if (r.chance(0.7)) return word.slice(0, at) + word.slice(at + 1);
  const [a, b] = [word[at], word[at + 1]];
  if (a === b) return word.slice(0, at) + word.slice(at + 1);
  return word.slice(0, at) + b + a + word.slice(at + 2);
}

export function searchMix(o: SearchMixOptions = {}): SearchMix {
  const r = new Random(o.seed ?? 1, 'search-mix');
  const skew = o.skew ?? 1;
  const brands = brandNames(o.brands ?? 200);
  const tree = categoryTree();
  const depts = DEPARTMENTS.map((dept, i) => {
    const slug = itemAt(tree, i).slug;
    // The department's leading brands: the generator's Zipf ranks are rotated by 20 per department.
    const leading = Array.from({ length: 10 }, (_, k) => lower(itemAt(brands, (k + i * 20) % brands.length)));
    return { dept, slug, nouns: nounsOf(dept, slug), leading };
  });
  const queries: SearchQuery[] = [];
  const seen = new Set<string>();
  // Alternately the department's slug and the noun's category's.
  let filters = 0;
  const add = (kind: SearchKind, text: string, deptSlug: string, category: string) => {
    if (seen.has(text)) return false;
    seen.add(text);
    queries.push({ kind, text, category: filters++ % 2 ? category : deptSlug });
    return true;
  };
  const fill = (kind: SearchKind, make: (d: (typeof depts)[number]) => [string, string] | undefined) => {
    const target = queries.length + MIX_KINDS[kind];
    for (let i = 0, tries = 0; queries.length < target; tries++) {
      if (tries > 100_000) throw new Error(`search mix: cannot draw ${MIX_KINDS[kind]} distinct ${kind} queries`);
      const d = itemAt(depts, i % depts.length);
      const made = make(d);
      if (made && add(kind, made[0], d.slug, made[1])) i++;
    }
  };

  fill('one-word', (d) => {
    const pick = r.next();
    if (pick < 0.6) {
      const n = r.pick(d.nouns);
      return [words(n.noun).at(-1) ?? n.noun, n.category];
    }
    const single = pick < 0.8 ? d.dept.qualifiers : d.dept.materials;
    const w = lower(r.pick(single));
    return /\s/.test(w) ? undefined : [w, r.pick(d.nouns).category];
  });
  fill('multi-word', (d) => {
    const n = r.pick(d.nouns);
    const pick = r.next();
    let text: string;
    if (pick < 0.45) text = `${lower(r.pick(d.dept.qualifiers))} ${n.noun}`;
    else if (pick < 0.85) text = `${lower(r.pick(d.dept.materials))} ${n.noun}`;
    else text = `${n.noun} ${words(r.pick(d.dept.uses)).filter((w) => w.length > 3).at(-1) ?? ''}`.trim();
    const count = words(text).length;
    return count >= 2 && count <= 3 ? [text, n.category] : undefined;
  });
  fill('brand', (d) => {
    // Mostly the top three brands of the department (their products are the most numerous).
    const brand = itemAt(d.leading, r.chance(0.7) ? r.int(3) : r.int(d.leading.length));
    const n = r.pick(d.nouns);
    return r.chance(0.4) ? [brand, n.category] : [`${brand} ${words(n.noun).at(-1) ?? n.noun}`, n.category];
  });
  fill('typo', (d) => {
    const n = r.pick(d.nouns);
    const pick = r.next();
    const head = words(n.noun).at(-1) ?? n.noun;
    const source = pick < 0.25 ? n.noun : pick < 0.7 ? `${lower(r.pick(d.dept.qualifiers))} ${n.noun}` : `${r.pick(d.leading)} ${head}`;
    const parts = words(source);
    if (parts.length > 2) return undefined;
    const k = r.int(parts.length);
    const typo = typoOf(itemAt(parts, k), r);
    if (!typo) return undefined;
    parts[k] = typo;
    return [parts.join(' '), n.category];
  });

  const distinct: SearchRequest[] = queries.flatMap((query) =>
    [false, true].map((filtered) => ({
      query,
      filtered,
      path: `/api/product/?${new URLSearchParams(filtered ? { search: query.text, category: query.category } : { search: query.text })}`,
    })),
  );
  // Popularity ranks dealt by a seeded shuffle (Fisher-Yates).
  const ranked = [...distinct];
  for (let i = ranked.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [ranked[i], ranked[j]] = [itemAt(ranked, j), itemAt(ranked, i)];
  }
  const zipf = Weighted.zipf(ranked.length, skew);
  const total = o.requests ?? 20_000;
  const counts = new Array<number>(ranked.length).fill(0);
  const paths: string[] = [];
  for (let i = 0; i < total; i++) {
    const rank = zipf.draw(r);
    counts[rank] = (counts[rank] ?? 0) + 1;
    paths.push(itemAt(ranked, rank).path);
  }
  return {
    queries,
    requests: ranked,
    paths,
    skew,
    top10Share: counts.slice(0, 10).reduce((t, n) => t + n, 0) / total,
    drawnDistinct: counts.filter((n) => n > 0).length,
  };
}

/** The mix's composition, for a report (markdown list items). */
export function describeMix(mix: SearchMix): string[] {
  const kinds = (Object.keys(MIX_KINDS) as SearchKind[]).map((k) => {
    const examples = mix.queries.filter((q) => q.kind === k).slice(0, 3).map((q) => `"${q.text}"`);
    return `${mix.queries.filter((q) => q.kind === k).length} ${k} (${examples.join(', ')}...)`;
  });
  return [
    `${mix.queries.length} query texts from the catalog's vocabulary: ${kinds.join(', ')}; each with and without a category filter (a department's or a category's slug): ${mix.requests.length} distinct searches.`,
    `Popularity: Zipf with s = ${mix.skew} over the ${mix.requests.length} searches (ranks dealt by a seeded shuffle); ${mix.paths.length.toLocaleString('en-US')} requests drawn in that order and replayed in a cycle: the 10 most popular searches take ${Math.round(mix.top10Share * 100)}% of them, ${mix.drawnDistinct} of the ${mix.requests.length} searches occur.`,
  ];
}
