/**
 * npm run clients:check — the contract generates clean clients with the tools frontend teams use.
 *
 * For each generator below (pinned in devDependencies) it:
 *   1. generates a client from generated/openapi.bundle.json into node_modules/.cache/clients/<tool>/generated
 *      (outside the source tree: nothing to commit, nothing for ESLint to read);
 *   2. copies clients/<tool>/smoke.ts next to it and compiles both with clients/tsconfig.json
 *      (`strict`, `noUncheckedIndexedAccess`): zero errors. The smoke program's `@ts-expect-error` lines
 *      prove the known regressions cannot come back (a create body without its required fields
 *      compiles, an enum widened to string, a page without `results`), and its typed reads prove
 *      error bodies are typed as the problem schema (neither `any`, `unknown` nor `void`);
 *   3. checks the names: every schema of the contract is exported under its own name, and no
 *      generator invented a name for an inline schema (`...AllOf`, `CartItemVariant`, `AddressFieldsKind`);
 *   4. runs the smoke program against the app (register, log in, list products, add to the cart,
 *      read the cart, create an address, read the `code` of a typed 404).
 *
 * The app is started from source (tsx src/main.ts) on a free port of 127.0.0.1, on a fresh database
 * of its own that it migrates and seeds with the demo catalog: on DATABASE_URL's server when it is
 * set (the database is dropped after), else in an embedded PostgreSQL in a temporary folder.
 *
 *   npm run clients:check                      every generator
 *   npm run clients:check -- hey-api orval     some of them
 *   npm run clients:check -- --no-smoke        generate, compile and check names only (no app)
 *   npm run clients:check -- --no-smoke --bundle old.json   the same for another bundled contract
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';

const root = resolve(__dirname, '..', '..');
let bundlePath = join(root, 'generated', 'openapi.bundle.json');
const work = join(root, 'node_modules', '.cache', 'clients');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

interface Tool {
  name: string;
  /** The command that writes the client into `out`. */
  generate(out: string): [string, string[]];
  /** Errors cannot be typed by this generator's design (it throws an error whose body is `any`). */
  untypedErrors?: string;
}

export const tools: Tool[] = [
  {
    name: 'hey-api',
    generate: (out) => [bin('openapi-ts'), ['--input', bundlePath, '--output', out, '--client', '@hey-api/client-fetch', '--silent', '--no-log-file']],
  },
  {
    name: 'orval',
    generate: (out) => [bin('orval'), ['--input', bundlePath, '--output', join(out, 'api.ts'), '--client', 'fetch', '--mode', 'single', '--quiet', '--fail-on-warnings']],
  },
  {
    // --disable-throw-on-error: a 4xx resolves to the HttpResponse whose `error` is typed (a rejected
    // promise's value has no type). --enum-style union: enums as string unions, like the other tools
    // (TypeScript `enum`s refuse the plain strings the API sends and takes).
    name: 'swagger-typescript-api',
    generate: (out) => [bin('swagger-typescript-api'), ['generate', '--path', bundlePath, '--output', out, '--name', 'api.ts', '--disable-throw-on-error', '--enum-style', 'union', '--silent']],
  },
  {
    // --useUnionTypes: enums as string unions (TypeScript `enum`s refuse the plain strings the API uses).
    name: 'openapi-typescript-codegen',
    // Its bin is called `openapi`, like one of @redocly/cli's: which one node_modules/.bin/openapi
    // is depends on the install order, so the package's own file is run.
    generate: (out) => [process.execPath, [join(root, 'node_modules', 'openapi-typescript-codegen', 'bin', 'index.js'), '--input', bundlePath, '--output', out, '--client', 'fetch', '--useUnionTypes']],
    untypedErrors: 'its services throw ApiError, whose `body` is `any`',
  },
];

type Json = Record<string, any>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Names exported by the generated code (types, interfaces, enums, consts, classes, functions). */
function exportedNames(dir: string): Set<string> {
  const names = new Set<string>();
  const pattern = /^export (?:declare )?(?:type|interface|enum|const|class|function|namespace) ([A-Za-z_$][\w$]*)/gm;
  for (const file of tsFiles(dir)) {
    for (const m of readFileSync(file, 'utf8').matchAll(pattern)) names.add(m[1]!);
  }
  return names;
}

/**
 * Every component schema is exported under its own name; every exported name is ours: a component
 * (schema, response, parameter), derived from an operationId, or the generator's own runtime.
 */
function checkNames(tool: string, dir: string, doc: Json): string[] {
  const problems: string[] = [];
  const names = exportedNames(dir);
  const schemas = Object.keys(doc.components?.schemas ?? {});
  for (const schema of schemas) if (!names.has(schema)) problems.push(`${tool}: the schema ${schema} is not exported under its name`);
  const operations: string[] = [];
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const op of Object.values<Json>(item)) if (op && typeof op === 'object' && typeof op.operationId === 'string') operations.push(op.operationId);
  }
  // Other components keep their names too, with the suffix some tools add (orval: `...Parameter`,
  // `...Response`); openapi-typescript-codegen names a service per tag (`CartService`).
  const components = ['parameters', 'requestBodies', 'headers'].flatMap((kind) => Object.keys(doc.components?.[kind] ?? {}));
  const ours = new Set([
    ...schemas,
    ...components,
    ...components.map((n) => `${n}Parameter`),
    ...Object.keys(doc.components?.responses ?? {}).map((n) => `${n}Response`),
    ...(doc.tags ?? []).map((t: Json) => `${String(t.name).replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m: string, _s: string, c: string) => c.toUpperCase())}Service`),
  ]);
  const lower = (s: string) => s.toLowerCase();
  const derived = (name: string) => operations.some((id) => lower(name).includes(lower(id)));
  const invented = [...names].filter((name) => /AllOf|OneOf|AnyOf/.test(name) || schemas.some((s) => name !== s && name.startsWith(s) && !ours.has(name) && !derived(name)));
  for (const name of invented) problems.push(`${tool}: exports ${name}, a name the contract does not give`);
  return problems;
}

function run(command: string, args: string[], cwd = root): void {
  execFileSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
}

/** Generates, compiles and checks one client; returns its folder (with smoke.ts). */
function build(tool: Tool, doc: Json): { dir: string; compiled: boolean; problems: string[] } {
  const dir = join(work, tool.name);
  const out = join(dir, 'generated');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const [command, args] = tool.generate(out);
  run(command, args);
  copyFileSync(join(root, 'clients', tool.name, 'smoke.ts'), join(dir, 'smoke.ts'));
  copyFileSync(join(root, 'clients', 'tsconfig.json'), join(dir, 'tsconfig.json'));
  const problems: string[] = [];
  let compiled = true;
  try {
    execFileSync(bin('tsc'), ['-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (err: any) {
    compiled = false;
    const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    problems.push(`${tool.name}: tsc --strict --noUncheckedIndexedAccess failed:\n${output}`);
  }
  problems.push(...checkNames(tool.name, out, doc));
  return { dir, compiled, problems };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface RunningApp {
  url: string;
  stop(): Promise<void>;
}

/** The app from source on a fresh database, migrated and seeded with the demo catalog. */
async function startApp(): Promise<RunningApp> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: 'clients-check-secret-that-is-long-enough-0123456789',
    PAYMENT_WEBHOOK_SECRET: 'clients-check-webhook-secret',
    MIGRATE_ON_START: 'true',
    SEED_DEMO: 'true',
    RATE_LIMIT_MAX: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  let dropDatabase = async () => {};
  let embeddedDir: string | undefined;
  if (process.env.DATABASE_URL) {
    const server = new URL(process.env.DATABASE_URL);
    const name = `clients_check_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(server);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    dropDatabase = async () => {
      const c = new Client({ connectionString: server.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  } else {
    delete env.DATABASE_URL;
    embeddedDir = mkdtempSync(join(tmpdir(), 'clients-check-pg-'));
    // Reachable by the system user the embedded server runs as under root, so its data stays here
    // (and is removed with the folder) instead of being staged elsewhere.
    chmodSync(embeddedDir, 0o755);
    env.EMBEDDED_PG_DIR = join(embeddedDir, 'data');
  }

  const child: ChildProcess = spawn(bin('tsx'), ['src/main.ts'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let running = true;
  void exited.then(() => (running = false));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      await exited;
    }
    await dropDatabase();
    if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
  };
  // Migrating and seeding a fresh database takes a while; the app answers /readyz once it listens.
  for (;;) {
    if (!running) {
      await stop();
      throw new Error(`the app exited (code ${await exited}) before it was ready`);
    }
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) return { url, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'no-smoke': { type: 'boolean' }, bundle: { type: 'string' } },
  });
  if (values.bundle) bundlePath = resolve(values.bundle);
  const unknown = positionals.filter((p) => !tools.some((t) => t.name === p));
  if (unknown.length) throw new Error(`unknown generator(s): ${unknown.join(', ')}; known: ${tools.map((t) => t.name).join(', ')}`);
  const selected = positionals.length ? tools.filter((t) => positionals.includes(t.name)) : tools;
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run npm run generate`);
  const doc = JSON.parse(readFileSync(bundlePath, 'utf8')) as Json;

  const built: { tool: Tool; dir: string }[] = [];
  const problems: string[] = [];
  for (const tool of selected) {
    console.log(`== ${tool.name}: generate, tsc --strict --noUncheckedIndexedAccess, names`);
    const result = build(tool, doc);
    problems.push(...result.problems);
    if (result.compiled) built.push({ tool, dir: result.dir });
  }

  if (!values['no-smoke'] && built.length) {
    console.log('== starting the app on a fresh database (migrate, seed the demo catalog)');
    const app = await startApp();
    try {
      for (const { tool, dir } of built) {
        console.log(`== ${tool.name}: smoke against ${app.url}`);
        try {
          execFileSync(bin('tsx'), [join(dir, 'smoke.ts')], { cwd: dir, stdio: 'inherit', env: { ...process.env, API_URL: app.url } });
        } catch {
          problems.push(`${tool.name}: the smoke program failed against the app`);
        }
      }
    } finally {
      await app.stop();
    }
  }

  for (const tool of selected) if (tool.untypedErrors) console.log(`note: ${tool.name} cannot type error bodies: ${tool.untypedErrors}`);
  if (problems.length) {
    console.error(`\nclients:check failed:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    return 1;
  }
  console.log(`clients:check: ${selected.map((t) => t.name).join(', ')}: clean`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
