import type { Request } from 'express';
import { callerKey, MEMORY_MAX, MemoryWriters, subjectOf } from '../../src/http/read-routing';

/** The pure parts of the replica routing (src/http/read-routing.ts): who a caller is, and the in-memory record of writers. */

const request = (headers: Record<string, string>) => ({ headers, get: (name: string) => headers[name.toLowerCase()], ip: '203.0.113.7' }) as unknown as Request;

describe('subjectOf', () => {
  it("is a token's subject, as written", () => {
    const payload = Buffer.from(JSON.stringify({ sub: '42' })).toString('base64url');
    expect(subjectOf(`Bearer eyJhbGciOiJIUzI1NiJ9.${payload}.sig`)).toBe('42');
  });

  it.each([
    ['a payload that is not JSON', 'Bearer eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.x'],
    ['a payload that is not base64url JSON at all', 'Bearer a.b.c'],
    ['no token', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['no subject', `Bearer eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"sub":7}').toString('base64url')}.x`],
  ])('is undefined, never an error, for %s', (_what, header) => {
    expect(subjectOf(header)).toBeUndefined();
  });

  it('leaves a caller with a broken token keyed by its cart token or address', () => {
    expect(callerKey(request({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.x' }))).toBe('a:203.0.113.7');
    expect(callerKey(request({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.x', 'x-cart-token': 'cart-1' }))).toMatch(/^c:/);
  });
});

describe('MemoryWriters', () => {
  it('remembers a writer for the window', async () => {
    const writers = new MemoryWriters(60_000);
    await writers.mark('u:1');
    expect(await writers.wroteRecently('u:1')).toBe(true);
    expect(await writers.wroteRecently('u:2')).toBe(false);
  });

  it('when full, forgets expired records first and counts every live one it has to forget', async () => {
    const expired = new MemoryWriters(-1);
    for (let i = 0; i <= MEMORY_MAX; i++) await expired.mark(`u:${i}`);
    expect(expired.evicted).toBe(0);

    const live = new MemoryWriters(60_000);
    for (let i = 0; i < MEMORY_MAX + 3; i++) await live.mark(`u:${i}`);
    expect(live.evicted).toBe(3);
    expect(await live.wroteRecently('u:2')).toBe(false);
    expect(await live.wroteRecently('u:3')).toBe(true);
    expect(await live.wroteRecently(`u:${MEMORY_MAX + 2}`)).toBe(true);
  });
});
