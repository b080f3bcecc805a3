import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { diff, judge } from '../../scripts/spec-breaking';

const root = join(__dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'spec-breaking');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const script = join(root, 'scripts', 'spec-breaking.ts');

/** Runs the gate as CI does (`npm run spec:breaking` is `tsx scripts/spec-breaking.ts`). */
function gate(args: string[], cwd = root, env: Record<string, string> = {}) {
  const run = spawnSync(tsx, [script, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, output: run.stdout + run.stderr };
}

const fixture = (name: string) => join(fixtures, `${name}.yaml`);

describe('npm run spec:breaking on two documents (fixtures)', () => {
  it('passes an additive change: a new operation and new optional fields', () => {
    const { status, output } = gate(['--base-file', fixture('base'), '--revision-file', fixture('additive')]);
    expect(output).toMatch(/0 major, [1-9]\d* minor/);
    expect(status).toBe(0);
  });

  it('fails a breaking change (a removed operation) when the major version stays', () => {
    const { status, output } = gate(['--base-file', fixture('base'), '--revision-file', fixture('breaking')]);
    expect(output).toMatch(/major: Path `\/items\/\{id\}\/` was removed\. \(path-removed/);
    expect(output).toMatch(/need a major bump of info.version/);
    expect(status).toBe(1);
  });

  it('passes the same breaking change with a major bump of info.version', () => {
    const { status, output } = gate(['--base-file', fixture('base'), '--revision-file', fixture('breaking-major-bump')]);
    expect(output).toMatch(/Breaking changes accepted: info.version has a major bump \(1.4.0 -> 2.0.0\)/);
    expect(status).toBe(0);
  });
});

describe('what counts as breaking', () => {
  const base = parse(readFileSync(fixture('base'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'spec-breaking-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function variant(name: string, change: (doc: any) => void): string {
    const doc = structuredClone(base);
    change(doc);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(doc));
    return file;
  }

  it.each([
    ['a removed response field', 'property-removed', (d: any) => {
      delete d.components.schemas.Item.properties.price;
      d.components.schemas.Item.required = ['id', 'name'];
    }],
    ['a new required request field', 'required-properties-added', (d: any) => {
      d.components.schemas.ItemInput.properties.sku = { type: 'string' };
      d.components.schemas.ItemInput.required.push('sku');
    }],
    ['a narrowed request type (shorter maxLength)', 'schema-constraint-changed', (d: any) => {
      d.components.schemas.ItemInput.properties.name.maxLength = 100;
    }],
    ['a changed request type', 'schema-type-changed', (d: any) => {
      d.components.schemas.ItemInput.properties.price = { type: 'integer' };
    }],
  ])('%s is breaking', (name, rule, change) => {
    const verdict = judge(diff(fixture('base'), variant(name.replace(/\W+/g, '-'), change)));
    expect(verdict.ok).toBe(false);
    expect(verdict.lines.join('\n')).toContain(rule);
  });

  it('a wider request type and a narrower response are not', () => {
    const file = variant('compatible', (d) => {
      d.components.schemas.ItemInput.properties.name.maxLength = 400;
      d.components.schemas.Item.properties.name.maxLength = 200;
    });
    expect(judge(diff(fixture('base'), file)).ok).toBe(true);
  });
});

describe('npm run spec:breaking against git revisions', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' }).trim();
  const commitSpec = (name: string, message: string) => {
    cpSync(fixture(name), join(repo, 'openapi', 'openapi.yaml'));
    git('commit', '-qam', message);
  };

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'spec-repo-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'ci@example.com');
    git('config', 'user.name', 'CI');
    mkdirSync(join(repo, 'openapi'));
    cpSync(fixture('base'), join(repo, 'openapi', 'openapi.yaml'));
    git('add', '.');
    git('commit', '-qm', 'base');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('on a branch, compares with the merge-base with main', () => {
    git('checkout', '-qb', 'feature');
    commitSpec('additive', 'additive');
    expect(gate([], repo).status).toBe(0);
    commitSpec('breaking', 'breaking');
    const { status, output } = gate([], repo);
    expect(output).toMatch(/openapi\/openapi.yaml at [0-9a-f]{40}/);
    expect(status).toBe(1);
  });

  it('on main, compares with the commit before (a clean clone in CI)', () => {
    commitSpec('additive', 'additive');
    expect(gate([], repo).status).toBe(0);
    commitSpec('breaking', 'breaking on main');
    expect(gate([], repo).status).toBe(1);
    commitSpec('breaking-major-bump', 'bump');
    // HEAD~1 already had the removal; from there the bump alone is not breaking.
    expect(gate([], repo).status).toBe(0);
  });

  it('takes the base from an argument or SPEC_BASE', () => {
    const first = git('rev-parse', 'HEAD');
    commitSpec('additive', 'additive');
    commitSpec('breaking-major-bump', 'bump');
    expect(gate([first], repo).status).toBe(0);
    cpSync(fixture('breaking'), join(repo, 'openapi', 'openapi.yaml')); // uncommitted: the working tree is compared
    expect(gate([], repo, { SPEC_BASE: first }).status).toBe(1);
    expect(gate(['no-such-revision'], repo).output).toMatch(/unknown git revision "no-such-revision"/);
  });
});
