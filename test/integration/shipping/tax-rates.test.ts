import type { components } from '../../../generated/openapi';
import { startApp, type TestApp } from '../../support/app';
import { actor, type Actor, sql } from '../../support/factories';

let app: TestApp;
let admin: Actor;
beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
});
afterAll(() => app.close());

const getRate = (id: number) => admin.api.GET('/api/tax-rate/{id}/', { params: { path: { id } } });

describe('tax rates', () => {
  it('creates, reads, lists (by country), updates and deletes rates; rates have three decimals', async () => {
    const created = await admin.api.POST('/api/tax-rate/', { body: { country: 'FR', tax_class: 'standard', name: 'TVA', rate: '20' } });
    expect(created.response.status).toBe(201);
    const fr = created.data!;
    expect(created.response.headers.get('location')).toMatch(new RegExp(`/api/tax-rate/${fr.id}/$`));
    expect(fr).toMatchObject({ country: 'FR', region: '', tax_class: 'standard', name: 'TVA', rate: '20.000' });
    expect((await getRate(fr.id)).data).toEqual(fr);

    const reduced = (await admin.api.POST('/api/tax-rate/', { body: { country: 'FR', tax_class: 'reduced', rate: '5.5' } })).data!;
    expect(reduced).toMatchObject({ tax_class: 'reduced', name: '', rate: '5.500' });
    const ny = (await admin.api.POST('/api/tax-rate/', { body: { country: 'US', region: '  NY ', rate: '8.875', name: 'Sales tax' } })).data!;
    expect(ny).toMatchObject({ country: 'US', region: 'NY', tax_class: 'standard', rate: '8.875' });
    const zero = (await admin.api.POST('/api/tax-rate/', { body: { country: 'DE', rate: '0' } })).data!;
    expect(zero.rate).toBe('0.000');
    const hundred = (await admin.api.POST('/api/tax-rate/', { body: { country: 'DE', tax_class: 'reduced', rate: '100.000' } })).data!;
    expect(hundred.rate).toBe('100.000');

    const nj = (await admin.api.POST('/api/tax-rate/', { body: { country: 'US', region: 'nj', rate: '6.625' } })).data!;

    // By country, region (regardless of case), class, id.
    const french = await admin.api.GET('/api/tax-rate/', { params: { query: { country: 'FR' } } });
    expect(french.data!.results.map((r) => r.id)).toEqual([reduced.id, fr.id]);
    const order = [hundred.id, zero.id, reduced.id, fr.id, nj.id, ny.id];
    const walked: number[] = [];
    let cursor: string | undefined;
    let last: components['schemas']['TaxRatePage'] | undefined;
    do {
      last = (await admin.api.GET('/api/tax-rate/', { params: { query: { page_size: 4, ...(cursor ? { cursor } : {}) } } })).data!;
      walked.push(...last.results.map((r) => r.id));
      cursor = last.next ? new URL(last.next).searchParams.get('cursor')! : undefined;
    } while (cursor);
    expect(walked).toEqual(order);
    const back = await admin.api.GET('/api/tax-rate/', { params: { query: { page_size: 4, cursor: new URL(last.previous!).searchParams.get('cursor')! } } });
    expect(back.data!.results.map((r) => r.id)).toEqual(order.slice(0, 4));
    const numbered = await admin.api.GET('/api/tax-rate/', { params: { query: { page: 2, page_size: 4 } } });
    expect(numbered.data).toMatchObject({ count: 6, next: null });
    expect(numbered.data!.results.map((r) => r.id)).toEqual(order.slice(4));

    const updated = await admin.api.PATCH('/api/tax-rate/{id}/', { params: { path: { id: fr.id } }, body: { rate: '19.6', name: 'TVA normale' } });
    expect(updated.data).toMatchObject({ rate: '19.600', name: 'TVA normale', country: 'FR', tax_class: 'standard' });
    expect((await getRate(fr.id)).data).toMatchObject({ rate: '19.600' });

    expect((await admin.api.DELETE('/api/tax-rate/{id}/', { params: { path: { id: fr.id } } })).response.status).toBe(204);
    expect((await getRate(fr.id)).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await admin.api.DELETE('/api/tax-rate/{id}/', { params: { path: { id: fr.id } } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await admin.api.PATCH('/api/tax-rate/{id}/', { params: { path: { id: fr.id } }, body: { rate: '1' } })).error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    // Its place and class are free again.
    expect((await admin.api.POST('/api/tax-rate/', { body: { country: 'FR', rate: '20' } })).response.status).toBe(201);
  });

  it('refuses a second rate for one country, region (regardless of case) and class (409 TAX_RATE_EXISTS)', async () => {
    const ca = (await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', region: 'QC', rate: '9.975' } })).data!;
    const dup = await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', region: ' qc', rate: '5', name: 'Other' } });
    expect(dup.error).toMatchObject({ status: 409, code: 'TAX_RATE_EXISTS' });
    expect(await sql(app, "select 1 from tax_rates where name = 'Other'")).toHaveLength(0);
    // Another class or the whole country is another rate.
    expect((await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', region: 'QC', tax_class: 'reduced', rate: '0' } })).response.status).toBe(201);
    expect((await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', rate: '5' } })).response.status).toBe(201);
    expect((await getRate(ca.id)).data).toEqual(ca);
  });

  it('lets exactly one of two concurrent creates of one rate succeed (the unique index decides)', async () => {
    const results = await Promise.all(['10', '11'].map((rate) => admin.api.POST('/api/tax-rate/', { body: { country: 'IT', region: 'Sicilia', rate } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.error)?.error?.code).toBe('TAX_RATE_EXISTS');
    expect(await sql(app, "select 1 from tax_rates where country = 'IT'")).toHaveLength(1);
  });

  it('refuses a rate above 100 (400 naming body.rate) and changes nothing', async () => {
    const post = await admin.api.POST('/api/tax-rate/', { body: { country: 'ES', rate: '100.001' } });
    expect(post.error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'body.rate' }] });
    expect(await sql(app, "select 1 from tax_rates where country = 'ES'")).toHaveLength(0);
    const es = (await admin.api.POST('/api/tax-rate/', { body: { country: 'ES', rate: '21' } })).data!;
    const patch = await admin.api.PATCH('/api/tax-rate/{id}/', { params: { path: { id: es.id } }, body: { rate: '250', name: 'Changed' } });
    expect(patch.error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'body.rate' }] });
    expect((await getRate(es.id)).data).toEqual(es);
  });

  it('refuses customers (403) and anonymous callers (401)', async () => {
    const customer = await actor(app);
    expect((await customer.api.GET('/api/tax-rate/')).error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await customer.api.POST('/api/tax-rate/', { body: { country: 'PT', rate: '23' } })).response.status).toBe(403);
    expect((await app.api.GET('/api/tax-rate/')).error).toMatchObject({ status: 401, code: 'NOT_AUTHENTICATED' });
    expect(await sql(app, "select 1 from tax_rates where country = 'PT'")).toHaveLength(0);
  });
});
