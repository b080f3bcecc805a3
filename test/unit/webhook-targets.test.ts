import type { LookupAddress } from 'node:dns';
import { loadConfig } from '../../src/config';
import { addressRange, isPublicAddress, literalTargetProblem, PrivateTargetError, publicOnlyLookup } from '../../src/modules/webhooks/webhooks.targets';

/** The webhooks' SSRF guard: which addresses are public, what a URL says, and the filtering lookup. */
describe('addressRange / isPublicAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
  ])('IPv4 %s is %s, not public', (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['fc00::abcd', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'ipv4Compatible'],
  ])('IPv6 %s is %s, not public', (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0.0.0.0', 'unspecified'],
  ])('IPv4-mapped IPv6 %s is classified as its IPv4 address: %s', (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '::ffff:8.8.8.8', '2606:4700:4700::1111', '2001:4860:4860::8888'])(
    'public %s is allowed',
    (address) => {
      expect(addressRange(address)).toBe('unicast');
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it('does not take a name for an address', () => {
    expect(addressRange('example.com')).toBe('invalid');
    expect(isPublicAddress('example.com')).toBe(false);
  });
});

describe('literalTargetProblem', () => {
  it.each([
    ['http://127.0.0.1:5432/', '127.0.0.1 is in a non-public range (loopback)'],
    ['http://[::1]/', '::1 is in a non-public range (loopback)'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is in a non-public range (loopback)'],
    ['http://[fd12:3456::1]:8080/x', 'fd12:3456::1 is in a non-public range (uniqueLocal)'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is in a non-public range (linkLocal)'],
    ['http://2130706433/', '127.0.0.1 is in a non-public range (loopback)'],
    ['http://0x7f.1/', '127.0.0.1 is in a non-public range (loopback)'],
    ['http://localhost:3000/', 'localhost is a local name'],
    ['http://LOCALHOST./', 'localhost is a local name'],
    ['https://api.localhost/', 'api.localhost is a local name'],
  ])('%s: %s', (url, problem) => {
    expect(literalTargetProblem(url)).toBe(problem);
  });

  it.each(['https://erp.example.com/hooks', 'http://93.184.216.34/', 'https://[2606:4700:4700::1111]/', 'https://notlocalhost.example/', 'https://localhost.example.com/'])(
    '%s passes (a name is checked when resolved)',
    (url) => {
      expect(literalTargetProblem(url)).toBeNull();
    },
  );
});

describe('publicOnlyLookup', () => {
  const resolve = (host: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((done) =>
      publicOnlyLookup(host, options, (err, address, family) => done({ err, address, family })),
    );

  it('refuses a name with a non-public address, naming it', async () => {
    const { err } = await resolve('localhost', { all: true });
    expect(err).toBeInstanceOf(PrivateTargetError);
    expect(err!.message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), in a non-public range \(loopback\)$/);
  });

  it('answers the checked addresses of a public one, as node:net asks (all, or one of a family)', async () => {
    expect(await resolve('93.184.216.34', { all: true })).toMatchObject({ err: null, address: [{ address: '93.184.216.34', family: 4 }] });
    expect(await resolve('93.184.216.34', {})).toMatchObject({ err: null, address: '93.184.216.34', family: 4 });
    expect((await resolve('93.184.216.34', { family: 6 })).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://db/shop', PAYMENT_WEBHOOK_SECRET: 'w'.repeat(16) };

  it('is off in production unless set, on elsewhere unless set', () => {
    expect(loadConfig(production).webhooks.allowPrivateTargets).toBe(false);
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).webhooks.allowPrivateTargets).toBe(true);
    expect(loadConfig({}).webhooks.allowPrivateTargets).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).webhooks.allowPrivateTargets).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).webhooks.allowPrivateTargets).toBe(false);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS: must be true or false/);
  });
});
