/**
 * The GraphQL breaking-change gate, like scripts/spec-breaking.ts for openapi/: compares
 * graphql/schema.graphql with the schema at a base git revision using GraphQL Inspector
 * (@graphql-inspector/core's `diff`), and fails when a change can break a client unless the
 * schema's version (the `Version: X.Y.Z` line of its description) got a major bump, or both are
 * prereleases of the same next major (scripts/versions.ts).
 *
 * Breaking: what GraphQL Inspector rates BREAKING (a removed field or type, a changed field or
 * argument type, a new required argument...), and a value added to an enum that answers can carry
 * (the REST gate rates a new response enum value major too: a client's exhaustive switch breaks).
 * Its other DANGEROUS changes (a new optional argument, a changed default) are listed, not fatal.
 *
 *   npm run graphql:breaking                 base: merge-base with main, or HEAD~1 on main itself
 *   npm run graphql:breaking -- <rev>        base: any git revision (also GRAPHQL_BASE=<rev>)
 *   npm run graphql:breaking -- --base-file a.graphql --revision-file b.graphql   two schemas
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema, getNamedType, type GraphQLSchema, isEnumType, isInterfaceType, isObjectType } from 'graphql';
import { defaultBase, git, tryGit } from './git-base';
import { acceptsBreaking, isMajorBump } from './versions';

const SCHEMA = 'graphql/schema.graphql';
/** The version of a schema whose description carries none: the schema as released with 1.0.0, before it was versioned. */
const UNVERSIONED = '1.0.0';

export interface Verdict {
  ok: boolean;
  lines: string[];
}

/** The `Version: X.Y.Z` line of the schema's description, if any. */
export function versionOf(schema: GraphQLSchema): string | undefined {
  return /^Version: v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?![\w.-])/m.exec(schema.description ?? '')?.[1];
}

/** Enums that answers can carry: the type of an object's or interface's field. */
function outputEnums(schema: GraphQLSchema): Set<string> {
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (isEnumType(named)) names.add(named.name);
    }
  }
  return names;
}

/** Whether a change can break a client (see the file's comment). */
function isBreaking(change: Change, enums: Set<string>): boolean {
  if (change.criticality.level === CriticalityLevel.Breaking) return true;
  return change.type === 'ENUM_VALUE_ADDED' && change.criticality.level === CriticalityLevel.Dangerous && enums.has((change.meta as { enumName: string }).enumName);
}

/** Compares two SDL documents: pass, or fail with the reasons. */
export async function judge(baseSdl: string, revisionSdl: string): Promise<Verdict> {
  const base = buildSchema(baseSdl);
  const revision = buildSchema(revisionSdl);
  const from = versionOf(base) ?? UNVERSIONED;
  const to = versionOf(revision);
  if (!to) return { ok: false, lines: [`The schema's description has no "Version: X.Y.Z" line (${SCHEMA}); add one.`] };
  const changes = await diff(base, revision);
  const enums = outputEnums(revision);
  const breaking = changes.filter((c) => isBreaking(c, enums));
  const dangerous = changes.filter((c) => !breaking.includes(c) && c.criticality.level === CriticalityLevel.Dangerous);
  const safe = changes.length - breaking.length - dangerous.length;
  const lines = [`${breaking.length} breaking, ${dangerous.length} dangerous, ${safe} safe change(s); version ${from} -> ${to}`];
  for (const c of breaking) lines.push(`  breaking: ${c.message} (${c.type}${c.path ? ` at ${c.path}` : ''})`);
  for (const c of dangerous) lines.push(`  dangerous: ${c.message} (${c.type}${c.path ? ` at ${c.path}` : ''})`);
  if (!breaking.length) return { ok: true, lines: [...lines, 'No breaking change.'] };
  if (acceptsBreaking(from, to)) {
    const why = isMajorBump(from, to) ? "the schema's version has a major bump" : 'both are prereleases of the same next major';
    return { ok: true, lines: [...lines, `Breaking changes accepted: ${why} (${from} -> ${to}).`] };
  }
  return {
    ok: false,
    lines: [
      ...lines,
      `Breaking changes need a major bump of the "Version:" line in ${SCHEMA}'s description (now ${to}), or a compatible design:`,
      'add fields and types instead of changing them, give new arguments defaults, deprecate before removing.',
    ],
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'base-file': { type: 'string' }, 'revision-file': { type: 'string' } },
  });
  if (values['base-file'] || values['revision-file']) {
    if (!values['base-file'] || !values['revision-file']) throw new Error('--base-file and --revision-file go together');
    const verdict = await judge(readFileSync(resolve(values['base-file']), 'utf8'), readFileSync(resolve(values['revision-file']), 'utf8'));
    console.log(verdict.lines.join('\n'));
    return verdict.ok ? 0 : 1;
  }

  const repo = git(['rev-parse', '--show-toplevel'], process.cwd());
  const asked = positionals[0] ?? process.env.GRAPHQL_BASE;
  const base = asked ?? defaultBase(repo);
  if (!base) {
    console.log('graphql:breaking: no base revision to compare with (a first commit?); nothing to check.');
    return 0;
  }
  const sha = tryGit(['rev-parse', '--verify', '--quiet', `${base}^{commit}`], repo);
  if (!sha) throw new Error(`graphql:breaking: unknown git revision "${base}"`);
  const baseSdl = tryGit(['show', `${sha}:${SCHEMA}`], repo);
  if (baseSdl === undefined) {
    console.log(`graphql:breaking: ${base} has no ${SCHEMA}; nothing to compare.`);
    return 0;
  }
  console.log(`graphql:breaking: ${SCHEMA} at ${base} (${sha.slice(0, 12)}) -> working tree`);
  const verdict = await judge(baseSdl, readFileSync(resolve(repo, SCHEMA), 'utf8'));
  console.log(verdict.lines.join('\n'));
  return verdict.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 2;
    },
  );
}
