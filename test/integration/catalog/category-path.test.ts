import { MikroORM, ref } from '@mikro-orm/postgresql';
import { ormOptions } from '../../../src/orm.config';
import { Category } from '../../../src/modules/catalog/category.entity';
import { createTestDatabase } from '../../support/database';

/** `categories.path` (Migration20261126013141) follows inserts and moves, and refuses cycles. */
describe('category paths', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 2 }));
  });
  afterAll(async () => {
    await orm.close();
    await db.drop();
  });

  const paths = async () =>
    Object.fromEntries(
      ((await orm.em.fork().getConnection().execute('select slug, path from categories order by id')) as { slug: string; path: number[] }[]).map(
        (r) => [r.slug, r.path],
      ),
    );

  it('holds the ids from the root down, through inserts and moves of whole subtrees', async () => {
    const em = orm.em.fork();
    const make = (slug: string, parent?: Category) => {
      const c = new Category(slug, slug);
      if (parent) c.parent = ref(parent);
      em.persist(c);
      return c;
    };
    const home = make('home');
    const garden = make('garden');
    await em.flush();
    const kitchen = make('kitchen', home);
    await em.flush();
    const pans = make('pans', kitchen);
    await em.flush();
    expect(await paths()).toEqual({
      home: [home.id], garden: [garden.id], kitchen: [home.id, kitchen.id], pans: [home.id, kitchen.id, pans.id],
    });

    kitchen.parent = ref(garden);
    await em.flush();
    expect(await paths()).toMatchObject({ kitchen: [garden.id, kitchen.id], pans: [garden.id, kitchen.id, pans.id] });

    kitchen.parent = null;
    await em.flush();
    expect(await paths()).toMatchObject({ kitchen: [kitchen.id], pans: [kitchen.id, pans.id] });

    // A category cannot move under its own descendant.
    kitchen.parent = ref(pans);
    await expect(em.flush()).rejects.toThrow(/cannot become a descendant of itself/);
    expect(await paths()).toMatchObject({ kitchen: [kitchen.id], pans: [kitchen.id, pans.id] });
  });
});
