import { spawn } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm start` builds first (prestart: `npm run build:changed`): nothing when nothing changed (tsc -b
 * with its build info in dist/, the Redoc page only when the bundled contract is newer), and what
 * changed otherwise.
 */
const root = join(__dirname, '..', '..', '..');
const mtime = (file: string) => statSync(join(root, file)).mtimeMs;
const OUTPUTS = ['dist/src/main.js', 'dist/src/app.js', 'dist/.tsbuildinfo', 'dist/docs/redoc.html'];

function buildChanged(): Promise<{ code: number | null; out: string }> {
  const child = spawn('npm', ['run', '-s', 'build:changed'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('the build before npm start', () => {
  it('rebuilds nothing when nothing changed, and the Redoc page when the bundled contract changed', async () => {
    const first = await buildChanged();
    expect(first).toMatchObject({ code: 0 });
    const before = OUTPUTS.map(mtime);

    const again = await buildChanged();
    expect(again).toEqual({ code: 0, out: '' });
    expect(OUTPUTS.map(mtime)).toEqual(before);

    // The bundle is newer than the page (as after `npm run generate` or a pull): the page is rebuilt.
    const bundle = join(root, 'generated', 'openapi.bundle.json');
    const now = new Date();
    utimesSync(bundle, now, now);
    const afterChange = await buildChanged();
    expect(afterChange.code).toBe(0);
    expect(mtime('dist/docs/redoc.html')).toBeGreaterThan(before[3]!);
    expect(mtime('dist/src/main.js')).toBe(before[0]);
  }, 180_000);
});
