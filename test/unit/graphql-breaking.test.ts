import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge } from '../../scripts/graphql-breaking';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const script = join(root, 'scripts', 'graphql-breaking.ts');

/** Runs the gate as CI does (`npm run graphql:breaking` is `tsx scripts/graphql-breaking.ts`). */
function gate(args: string[], cwd = root, env: Record<string, string> = {}) {
  const run = spawnSync(tsx, [script, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** A small schema with a version line in its description, and room for changes. */
function sdl({ version = '1.4.0', order = 'status: OrderStatus!\n  total: String!', statuses = 'pending paid', query = 'order(id: Int!): Order' } = {}) {
  return `"""
A test schema.

Version: ${version}
"""
schema { query: Query }

type Query {
  ${query}
}

type Order {
  id: Int!
  ${order}
}

enum OrderStatus { ${statuses} }

enum Ordering { NEWEST OLDEST }
`;
}

const BASE = sdl();
const dir = mkdtempSync(join(tmpdir(), 'graphql-breaking-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, `${name}.graphql`);
  writeFileSync(path, text);
  return path;
}

describe('npm run graphql:breaking on two schema files', () => {
  it('passes an additive change: a new field, a new type, a new argument with a default', () => {
    const additive = sdl({ order: 'status: OrderStatus!\n  total: String!\n  note: String', query: 'order(id: Int!): Order\n  orders(first: Int = 20): [Order!]!' });
    const { status, output } = gate(['--base-file', file('base', BASE), '--revision-file', file('additive', additive)]);
    expect(output).toMatch(/^0 breaking, 0 dangerous, [1-9]\d* safe change\(s\); version 1\.4\.0 -> 1\.4\.0$/m);
    expect(output).toContain('No breaking change.');
    expect(status).toBe(0);
  });

  it('fails a breaking change (a removed field) when the major version stays', () => {
    const { status, output } = gate(['--base-file', file('base', BASE), '--revision-file', file('removed', sdl({ order: 'status: OrderStatus!', version: '1.5.0' }))]);
    expect(output).toMatch(/breaking: Field 'total' was removed from object type 'Order' \(FIELD_REMOVED at Order\.total\)/);
    expect(output).toMatch(/need a major bump of the "Version:" line/);
    expect(status).toBe(1);
  });

  it('passes the same breaking change with a major bump of the version', () => {
    const { status, output } = gate(['--base-file', file('base', BASE), '--revision-file', file('bumped', sdl({ order: 'status: OrderStatus!', version: '2.0.0' }))]);
    expect(output).toContain("Breaking changes accepted: the schema's version has a major bump (1.4.0 -> 2.0.0).");
    expect(status).toBe(0);
  });

  it('refuses a schema without a version line', () => {
    const { status, output } = gate(['--base-file', file('base', BASE), '--revision-file', file('unversioned', BASE.replace('Version: 1.4.0', ''))]);
    expect(output).toMatch(/has no "Version: X.Y.Z" line/);
    expect(status).toBe(1);
  });
});

describe('what counts as breaking', () => {
  it.each([
    ['a String field becoming an enum', { order: 'status: String!\n  total: String!' }, { order: 'status: OrderStatus!\n  total: String!' }, 'FIELD_TYPE_CHANGED'],
    ['a removed query', {}, { query: 'orders: [Order!]!' }, 'FIELD_REMOVED'],
    ['a new required argument', {}, { query: 'order(id: Int!, currency: String!): Order' }, 'FIELD_ARGUMENT_ADDED'],
    ['a changed argument type', {}, { query: 'order(id: String!): Order' }, 'FIELD_ARGUMENT_TYPE_CHANGED'],
    ['a value removed from an enum', {}, { statuses: 'pending' }, 'ENUM_VALUE_REMOVED'],
    ['a value added to an enum that answers carry', {}, { statuses: 'pending paid lost' }, 'ENUM_VALUE_ADDED'],
  ])('%s is breaking', async (_name, before, after, type) => {
    const verdict = await judge(sdl(before), sdl(after));
    expect(verdict.ok).toBe(false);
    expect(verdict.lines.filter((l) => l.startsWith('  breaking:')).join('\n')).toContain(`(${type}`);
  });

  it('a value added to an input-only enum, a new optional argument and a nullable field becoming non-null are not', async () => {
    const revision = sdl({ order: 'status: OrderStatus!\n  total: String!', query: 'order(id: Int!, sort: Ordering): Order!' }).replace('NEWEST OLDEST', 'NEWEST OLDEST CHEAPEST');
    const base = sdl();
    const withInput = (s: string) => s.replace('order(id: Int!', 'orders(sort: Ordering): [Order!]!\n  order(id: Int!');
    const verdict = await judge(withInput(base), withInput(revision));
    expect(verdict.lines.join('\n')).not.toMatch(/^ {2}breaking:/m);
    expect(verdict.lines.join('\n')).toMatch(/dangerous: .*Ordering/);
    expect(verdict.ok).toBe(true);
  });

  it('a base schema without a version line counts as 1.0.0', async () => {
    const verdict = await judge(sdl().replace('Version: 1.4.0', ''), sdl({ statuses: 'pending', version: '2.0.0' }));
    expect(verdict.lines[0]).toMatch(/version 1\.0\.0 -> 2\.0\.0$/);
    expect(verdict.ok).toBe(true);
  });
});

describe('npm run graphql:breaking against git revisions', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' }).trim();
  const commitSchema = (text: string, message: string) => {
    writeFileSync(join(repo, 'graphql', 'schema.graphql'), text);
    git('commit', '-qam', message);
  };
  const ADDITIVE = sdl({ order: 'status: OrderStatus!\n  total: String!\n  note: String' });
  const BREAKING = sdl({ order: 'status: OrderStatus!' });
  const BUMPED = sdl({ order: 'status: OrderStatus!', version: '2.0.0' });

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'graphql-repo-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'ci@example.com');
    git('config', 'user.name', 'CI');
    mkdirSync(join(repo, 'graphql'));
    writeFileSync(join(repo, 'graphql', 'schema.graphql'), BASE);
    git('add', '.');
    git('commit', '-qm', 'base');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('on a branch, compares with the merge-base with main', () => {
    git('checkout', '-qb', 'feature');
    commitSchema(ADDITIVE, 'additive');
    expect(gate([], repo).status).toBe(0);
    commitSchema(BREAKING, 'breaking');
    const { status, output } = gate([], repo);
    expect(output).toMatch(/graphql\/schema.graphql at [0-9a-f]{40}/);
    expect(status).toBe(1);
  });

  it('on main, compares with the commit before (a clean clone in CI)', () => {
    commitSchema(ADDITIVE, 'additive');
    expect(gate([], repo).status).toBe(0);
    commitSchema(BREAKING, 'breaking on main');
    expect(gate([], repo).status).toBe(1);
    commitSchema(BUMPED, 'bump');
    // HEAD~1 already had the removal; from there the bump alone is not breaking.
    expect(gate([], repo).status).toBe(0);
  });

  it('takes the base from an argument or GRAPHQL_BASE, and reports an unknown revision', () => {
    const first = git('rev-parse', 'HEAD');
    commitSchema(ADDITIVE, 'additive');
    commitSchema(BUMPED, 'bump');
    expect(gate([first], repo).status).toBe(0);
    writeFileSync(join(repo, 'graphql', 'schema.graphql'), BREAKING); // uncommitted: the working tree is compared
    expect(gate([], repo, { GRAPHQL_BASE: first }).status).toBe(1);
    const unknown = gate(['no-such-revision'], repo);
    expect(unknown.output).toMatch(/unknown git revision "no-such-revision"/);
    expect(unknown.status).toBe(2);
  });
});
