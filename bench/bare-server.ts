/**
 * The baseline of `npm run bench`: bare Node `http` + `pg` (a pool of 10) running the same product
 * list SQL as the API (`productListQuery`), as the same named prepared statement when the API
 * prepares it (`unnamed=1`: an unnamed statement, planned every time), and the same product detail
 * statement (`DiscoveryRepository.detail`), named and prepared as the API sends it, answering its row
 * as JSON. Nothing else: no framework, validation, auth, ORM, mapping or logging. Everything the real
 * server adds is measured against it.
 *
 *   GET /products?category=&min_price=&max_price=&in_stock=&ordering=&page_size=&after=<key>,<id>[&unnamed=1]
 *   GET /products/<id>
 *
 * Env: DATABASE_URL, PORT (0 = any; the port is printed as `listening <port>`).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Pool } from 'pg';
import { namedStatement, toPgPlaceholders } from '../src/db/prepared';
import { DiscoveryRepository } from '../src/modules/catalog/discovery.repository';
import { type DiscoveryFilters, type ProductOrdering, productListQuery, type ProductRow, sortKeyOf } from '../src/modules/catalog/discovery.sql';

const ORDERINGS = new Set<ProductOrdering>(['price', '-price', 'created_at', '-created_at', 'name', '-name', '-rating']);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

function filtersOf(q: URLSearchParams): DiscoveryFilters {
  const f: DiscoveryFilters = { visibility: { kind: 'public' } };
  const category = q.get('category');
  if (category) f.category = /^\d+$/.test(category) ? Number(category) : category;
  if (q.get('min_price')) f.minPrice = q.get('min_price')!;
  if (q.get('max_price')) f.maxPrice = q.get('max_price')!;
  if (q.get('in_stock')) f.inStock = q.get('in_stock') === 'true';
  return f;
}

/** `after=<key>,<id>` (the key may hold commas, the id is after the last one): undefined when absent, null when malformed. */
function afterOf(value: string | null): [string, number] | undefined | null {
  if (value === null) return undefined;
  const comma = value.lastIndexOf(',');
  const id = value.slice(comma + 1);
  return comma >= 0 && /^\d{1,15}$/.test(id) ? [value.slice(0, comma), Number(id)] : null;
}

/**
 * The API's detail statement, exactly as its repository sends it (`?` placeholders): the text is not
 * exported, so it is read off a stand-in EntityManager given to the repository with prepared
 * statements off (it then hands the statement to `em.execute`).
 */
async function detailSql(): Promise<string> {
  let sql: string | undefined;
  const em = {
    execute: (text: string) => {
      sql = text;
      return Promise.resolve([]);
    },
  } as unknown as EntityManager;
  await new DiscoveryRepository(false).detail(em, 0);
  if (!sql) throw new Error('DiscoveryRepository.detail sent no statement');
  return sql;
}

const detail = detailSql().then(namedStatement);

function sendJson(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function productDetail(id: string, res: ServerResponse): void {
  if (!/^\d{1,9}$/.test(id)) {
    res.writeHead(404).end();
    return;
  }
  detail
    .then((statement) => pool.query({ ...statement, values: [Number(id)] }))
    .then(
      ({ rows }) => {
        if (rows[0]) sendJson(res, JSON.stringify(rows[0]));
        else res.writeHead(404).end();
      },
      (err: Error) => {
        console.error(err.message);
        res.writeHead(500).end();
      },
    );
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const one = /^\/products\/([^/]+)\/?$/.exec(url.pathname);
  if (one?.[1]) {
    productDetail(one[1], res);
    return;
  }
  if (url.pathname !== '/products') {
    res.writeHead(404).end();
    return;
  }
  const q = url.searchParams;
  const ordering = (q.get('ordering') ?? 'price') as ProductOrdering;
  if (!ORDERINGS.has(ordering)) {
    res.writeHead(400).end();
    return;
  }
  const size = Math.min(100, Number(q.get('page_size') ?? 20));
  if (!Number.isSafeInteger(size) || size < 1) {
    res.writeHead(400).end();
    return;
  }
  const after = afterOf(q.get('after'));
  if (after === null) {
    res.writeHead(400).end();
    return;
  }
  const built = productListQuery(filtersOf(q), ordering, { kind: 'cursor', size, after });
  const statement = built.stablePlan && q.get('unnamed') !== '1' ? namedStatement(built.sql) : { text: toPgPlaceholders(built.sql) };
  pool.query<ProductRow>({ ...statement, values: built.params }).then(
    ({ rows }) => {
      const items = rows.slice(0, size);
      const last = items[items.length - 1];
      const next = rows.length > size && last ? `/products?${new URLSearchParams({ ...Object.fromEntries(q), after: `${sortKeyOf(last, ordering)},${last.id}` })}` : null;
      sendJson(res, JSON.stringify({ next, previous: null, results: items }));
    },
    (err: Error) => {
      console.error(err.message);
      res.writeHead(500).end();
    },
  );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});

const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
