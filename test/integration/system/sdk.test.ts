import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createApiClient } from '../../../generated/sdk/index';
import { startApp, type TestApp } from '../../support/app';
import { actor } from '../../support/factories';

const root = join(__dirname, '..', '..', '..');
const sdkDir = join(root, 'generated', 'sdk');

let app: TestApp;
let built: typeof import('../../../generated/sdk/index');
let outDir: string;

beforeAll(async () => {
  // The package's `build` script, with the output moved out of the source tree (under the
  // project's node_modules, so that openapi-fetch resolves as it would for a consumer). Built
  // first: a long pause between requests would leave idle keep-alive connections to race the
  // server closing them.
  const pkg = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  outDir = mkdtempSync(join(cache, 'sdk-build-'));
  const args = (pkg.scripts.build as string).split(' ').slice(1).map((a) => (a === 'dist' ? outDir : a));
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), args, { cwd: sdkDir, stdio: 'pipe' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  built = require(join(outDir, 'index.js'));
  app = await startApp();
});
afterAll(async () => {
  rmSync(outDir, { recursive: true, force: true });
  await app.close();
});

describe('the generated SDK (generated/sdk)', () => {
  it('sends the token it is given, and none without one', async () => {
    const { tokens, user } = await actor(app);
    const signedIn = await createApiClient({ baseUrl: app.baseUrl, token: tokens.access }).GET('/api/auth/me/');
    expect(signedIn.data).toMatchObject({ id: user.id });
    const anonymous = await createApiClient({ baseUrl: app.baseUrl }).GET('/api/auth/me/');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error).toMatchObject({ status: 401 });
  });

  it('asks a token function before every request, so a refreshed token is used at once', async () => {
    const first = await actor(app);
    const second = await actor(app);
    let current: string | undefined;
    const api = createApiClient({ baseUrl: `${app.baseUrl}/`, token: async () => current });
    expect((await api.GET('/api/auth/me/')).response.status).toBe(401);
    current = first.tokens.access;
    expect((await api.GET('/api/auth/me/')).data?.id).toBe(first.user.id);
    current = second.tokens.access;
    expect((await api.GET('/api/auth/me/')).data?.id).toBe(second.user.id);
  });

  it('is a package that builds with its own build script and works as plain JavaScript', async () => {
    const pkg = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: '@ecommerce-backend/sdk', main: 'dist/index.js', types: 'dist/index.d.ts' });
    expect(pkg.dependencies).toHaveProperty('openapi-fetch');
    const { data, response } = await built.createApiClient({ baseUrl: app.baseUrl }).GET('/healthz');
    expect(response.status).toBe(200);
    expect(data).toEqual({ status: 'ok' });
    expect(readFileSync(join(outDir, 'index.d.ts'), 'utf8')).toMatch(/export declare function createApiClient/);
  });
});
