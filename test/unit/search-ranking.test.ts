import type { EntityManager } from '@mikro-orm/postgresql';
import type { DiscoveryFilters, ProductRow } from '../../src/modules/catalog/discovery.sql';
import { type RankedRows, type RankingSource, SearchRanking } from '../../src/modules/catalog/search-ranking';

/**
 * The search ranking cache's walk over a fake catalog: pages exactly as the SQL would order them
 * (`rank desc, id desc`, fresh filters on the rows), SQL past the candidates kept, one computation
 * for concurrent misses, recomputation on a newer version, SQL on an older one.
 */
interface Item {
  id: number;
  rank: number;
  inStock: boolean;
}

const em = {} as EntityManager;
const SEARCH: DiscoveryFilters = { visibility: { kind: 'public' }, search: 'wireless' };

/** A catalog the source reads; `epoch` and `version` are what both statements report (`rowsVersion` overrides the rows'). */
class FakeSource implements RankingSource {
  epoch = 'a';
  version = 1;
  rowsVersion: number | undefined;
  candidateCalls = 0;
  rowCalls: number[] = [];
  /** Resolves the candidates' statement when set (single-flight test). */
  gate: Promise<void> | undefined;

  constructor(public items: Item[]) {}

  /** The SQL's answer: every match in order, fresh filters applied. */
  ordered(f: DiscoveryFilters): Item[] {
    return this.items.filter((i) => !f.inStock || i.inStock).sort((a, b) => b.rank - a.rank || b.id - a.id);
  }

  async candidates(_em: EntityManager, _f: DiscoveryFilters, limit: number) {
    this.candidateCalls++;
    if (this.gate) await this.gate;
    const top = [...this.items].sort((a, b) => b.rank - a.rank || b.id - a.id).slice(0, limit);
    return { epoch: this.epoch, version: this.version, ids: top.map((i) => i.id), ranks: top.map((i) => i.rank) };
  }

  async rows(_em: EntityManager, f: DiscoveryFilters, ids: Int32Array, limit: number): Promise<RankedRows> {
    this.rowCalls.push(ids.length);
    const rows: RankedRows['rows'] = [];
    ids.forEach((id, i) => {
      const item = this.items.find((x) => x.id === id);
      if (item && (!f.inStock || item.inStock) && rows.length < limit) rows.push({ id, ord: i + 1 } as ProductRow & { ord: number });
    });
    return { epoch: this.epoch, version: this.rowsVersion ?? this.version, rows };
  }
}

/** Every page through the cache, falling back to the fake's ordered list where the cache declines (as the repository does with SQL). */
async function walk(ranking: SearchRanking, source: FakeSource, f: DiscoveryFilters, size: number): Promise<{ ids: number[]; fallbacks: number }> {
  const ids: number[] = [];
  let after: [number, number] | undefined;
  let fallbacks = 0;
  for (let n = 0; n < 1000; n++) {
    let rows: { id: number; rank?: number }[] | undefined = await ranking.page(em, f, size, after);
    if (!rows) {
      fallbacks++;
      const all = source.ordered(f);
      const start = after ? all.findIndex((i) => i.rank < after![0] || (i.rank === after![0] && i.id < after![1])) : 0;
      rows = start < 0 ? [] : all.slice(start, start + size + 1);
    }
    const page = rows.slice(0, size);
    ids.push(...page.map((r) => r.id));
    if (rows.length <= size) return { ids, fallbacks };
    const last = page[page.length - 1]!;
    after = [last.rank!, last.id];
  }
  throw new Error('too many pages');
}

/** 30 items with many rank ties; every third one out of stock. */
const catalog = (): Item[] => Array.from({ length: 30 }, (_, i) => ({ id: i + 1, rank: [0.5, 0.25, 0.1][i % 3]!, inStock: i % 3 !== 2 }));

describe('SearchRanking', () => {
  it('pages exactly in rank, id order, ties included, with and without fresh filters', async () => {
    const source = new FakeSource(catalog());
    const ranking = new SearchRanking(source, { maxCandidates: 1000 });
    for (const f of [SEARCH, { ...SEARCH, inStock: true }]) {
      for (const size of [1, 3, 7, 50]) {
        const { ids, fallbacks } = await walk(ranking, source, f, size);
        expect(ids).toEqual(source.ordered(f).map((i) => i.id));
        expect(fallbacks).toBe(0);
      }
    }
    // One computation of the candidates: price and stock filters share the entry.
    expect(source.candidateCalls).toBe(1);
  });

  it('hands the pages past the candidates kept to SQL, and still walks exactly', async () => {
    const source = new FakeSource(catalog());
    const ranking = new SearchRanking(source, { maxCandidates: 1000, limit: 8 });
    for (const f of [SEARCH, { ...SEARCH, inStock: true }]) {
      const { ids, fallbacks } = await walk(ranking, source, f, 3);
      expect(ids).toEqual(source.ordered(f).map((i) => i.id));
      expect(fallbacks).toBeGreaterThan(0);
    }
    // Exactly the candidates kept: complete, no SQL.
    const exact = new FakeSource(catalog().slice(0, 8));
    const kept = await walk(new SearchRanking(exact, { maxCandidates: 1000, limit: 8 }), exact, SEARCH, 3);
    expect(kept).toEqual({ ids: exact.ordered(SEARCH).map((i) => i.id), fallbacks: 0 });
  });

  it('reads a page in two statements at most: twice the rows wanted, then every remaining candidate', async () => {
    // The lowest ids rank first; only the 5 lowest ranked are in stock.
    const items = catalog().map((i) => ({ ...i, rank: 1 - i.id / 100, inStock: i.id > 25 }));
    const source = new FakeSource(items);
    const ranking = new SearchRanking(source, { maxCandidates: 1000 });
    const inStock = { ...SEARCH, inStock: true };
    const rows = await ranking.page(em, inStock, 2, undefined);
    expect(rows!.map((r) => r.id)).toEqual(source.ordered(inStock).slice(0, 3).map((i) => i.id));
    expect(source.rowCalls).toEqual([6, 24]);
    // Enough in the first batch: one statement. Without fresh filters: the rows wanted, no more.
    source.rowCalls = [];
    await ranking.page(em, { ...SEARCH, inStock: false }, 2, undefined);
    await ranking.page(em, SEARCH, 2, undefined);
    expect(source.rowCalls).toEqual([6, 3]);
    // Short after both, with candidates left that were not kept: SQL, after the same two statements.
    const few = new SearchRanking(source, { maxCandidates: 1000, limit: 12 });
    source.rowCalls = [];
    expect(await few.page(em, inStock, 2, undefined)).toBeUndefined();
    expect(source.rowCalls).toEqual([6, 6]);
    expect(few.stats.fallbacks).toBe(1);
  });

  it('shares one computation between concurrent misses of a search', async () => {
    const source = new FakeSource(catalog());
    let open!: () => void;
    source.gate = new Promise((resolve) => (open = resolve));
    const ranking = new SearchRanking(source, { maxCandidates: 1000 });
    const pages = [1, 2, 3, 4].map(() => ranking.page(em, SEARCH, 5, undefined));
    open();
    const results = await Promise.all(pages);
    expect(source.candidateCalls).toBe(1);
    for (const rows of results) expect(rows!.map((r) => r.id)).toEqual(source.ordered(SEARCH).slice(0, 6).map((i) => i.id));
  });

  it('recomputes on a newer version; answers by SQL on an older one (a lagging replica) and keeps the entry', async () => {
    const source = new FakeSource(catalog());
    const ranking = new SearchRanking(source, { maxCandidates: 1000 });
    await ranking.page(em, SEARCH, 5, undefined);
    // A change: a new item ranked first, and the version bumped.
    source.items.push({ id: 99, rank: 0.9, inStock: true });
    source.version = 2;
    const fresh = await ranking.page(em, SEARCH, 5, undefined);
    expect(fresh![0]!.id).toBe(99);
    expect(source.candidateCalls).toBe(2);
    // The rows read on a server behind: SQL there, nothing recomputed, the entry still used after.
    source.rowsVersion = 1;
    expect(await ranking.page(em, SEARCH, 5, undefined)).toBeUndefined();
    source.rowsVersion = undefined;
    expect((await ranking.page(em, SEARCH, 5, undefined))![0]!.id).toBe(99);
    expect(source.candidateCalls).toBe(2);
  });

  it('recomputes on another epoch, even at an older version (the counter restored or recreated)', async () => {
    const source = new FakeSource(catalog());
    const ranking = new SearchRanking(source, { maxCandidates: 1000 });
    source.version = 7;
    await ranking.page(em, SEARCH, 5, undefined);
    // Restored: another epoch, a version that climbed back to the entry's, and other data.
    source.epoch = 'b';
    source.items.push({ id: 99, rank: 0.9, inStock: true });
    const rows = await ranking.page(em, SEARCH, 5, undefined);
    expect(rows![0]!.id).toBe(99);
    expect(source.candidateCalls).toBe(2);
    // And a version below the entry's in the other epoch is not a lagging replica either.
    source.epoch = 'c';
    source.version = 2;
    source.items.push({ id: 100, rank: 0.95, inStock: true });
    expect((await ranking.page(em, SEARCH, 5, undefined))![0]!.id).toBe(100);
    expect(source.candidateCalls).toBe(3);
    expect(ranking.stats.fallbacks).toBe(0);
  });

  it('gives the cached ranks as the rows’ rank (the cursor keys)', async () => {
    const source = new FakeSource(catalog());
    const rows = await new SearchRanking(source, { maxCandidates: 1000 }).page(em, SEARCH, 4, [0.5, 20]);
    expect(rows!.map((r) => [r.rank, r.id])).toEqual(source.ordered(SEARCH).filter((i) => i.rank < 0.5 || i.id < 20).slice(0, 5).map((i) => [i.rank, i.id]));
  });

  it('keeps at most maxCandidates in total, the keys and each entry’s overhead counted, least recently used out first', async () => {
    const source = new FakeSource(catalog());
    // 30 ids + 16 + 5 for the key (26 to 30 characters): 51 each, two fit in 110, three do not.
    const ranking = new SearchRanking(source, { maxCandidates: 110 });
    const search = (text: string) => ranking.page(em, { ...SEARCH, search: text }, 3, undefined);
    await search('a');
    await search('b');
    await search('a');
    expect(source.candidateCalls).toBe(2);
    // A third search evicts the least recently used, b.
    await search('c');
    await search('a');
    expect(source.candidateCalls).toBe(3);
    await search('b');
    expect(source.candidateCalls).toBe(4);
  });
});
