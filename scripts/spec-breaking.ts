/**
 * The breaking-change gate: compares the contract in openapi/ with the contract at a base git
 * revision, using `redocly diff` (rules: diff-recommended in redocly.yaml), and fails when a change
 * needs a major version (a removed operation or response field, a new required request field, a
 * narrowed type...) unless info.version got a major bump (see `acceptsBreaking`).
 *
 *   npm run spec:breaking                 base: merge-base with main, or HEAD~1 on main itself
 *   npm run spec:breaking -- <rev>        base: any git revision (also SPEC_BASE=<rev>)
 *   npm run spec:breaking -- --base-file a.yaml --revision-file b.yaml   two documents
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultBase, git, tryGit } from './git-base';
import { acceptsBreaking, isMajorBump } from './versions';

const projectRoot = resolve(__dirname, '..');
const SPEC = 'openapi/openapi.yaml';

interface Verdict {
  ruleId: string;
  impact: 'major' | 'minor' | 'patch';
  message: string;
  location?: { file?: string; pointer?: string };
}
interface DiffReport {
  summary: { major: number; minor: number; patch: number };
  infoVersions: { base?: string; revision?: string };
  changes: { verdicts: Verdict[] }[];
}

/** Runs `redocly diff` and returns its JSON report. */
export function diff(baseFile: string, revisionFile: string): DiffReport {
  const out = join(mkdtempSync(join(tmpdir(), 'spec-diff-')), 'report.json');
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('@redocly/cli/bin/cli.js'),
      'diff',
      baseFile,
      revisionFile,
      '--config',
      join(projectRoot, 'redocly.yaml'),
      '--fail-on',
      'none',
      '--format',
      'json',
      '--output',
      out,
    ],
    { cwd: projectRoot, encoding: 'utf8' },
  );
  if (run.status !== 0 || !existsSync(out)) {
    throw new Error(`redocly diff failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  }
  const report = JSON.parse(readFileSync(out, 'utf8')) as DiffReport;
  rmSync(join(out, '..'), { recursive: true, force: true });
  return report;
}

/** The gate's verdict on a report: pass, or fail with the reasons. */
export function judge(report: DiffReport): { ok: boolean; lines: string[] } {
  const { major, minor, patch } = report.summary;
  const { base, revision } = report.infoVersions;
  const lines = [`${major} major, ${minor} minor, ${patch} patch change(s); info.version ${base} -> ${revision}`];
  const breaking = report.changes.flatMap((c) => c.verdicts).filter((v) => v.impact === 'major');
  for (const v of breaking) lines.push(`  major: ${v.message} (${v.ruleId}${v.location?.pointer ? ` at ${v.location.pointer}` : ''})`);
  if (!major) return { ok: true, lines: [...lines, 'No breaking change.'] };
  if (acceptsBreaking(base, revision)) {
    const why = isMajorBump(base, revision) ? 'info.version has a major bump' : 'both are prereleases of the same next major';
    return { ok: true, lines: [...lines, `Breaking changes accepted: ${why} (${base} -> ${revision}).`] };
  }
  return {
    ok: false,
    lines: [
      ...lines,
      `Breaking changes need a major bump of info.version in ${SPEC} (now ${revision}), or a compatible design:`,
      'add instead of changing, keep old fields, make new request fields optional.',
    ],
  };
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'base-file': { type: 'string' }, 'revision-file': { type: 'string' } },
  });
  if (values['base-file'] || values['revision-file']) {
    if (!values['base-file'] || !values['revision-file']) throw new Error('--base-file and --revision-file go together');
    const verdict = judge(diff(resolve(values['base-file']), resolve(values['revision-file'])));
    console.log(verdict.lines.join('\n'));
    return verdict.ok ? 0 : 1;
  }

  const repo = git(['rev-parse', '--show-toplevel'], process.cwd());
  const asked = positionals[0] ?? process.env.SPEC_BASE;
  const base = asked ?? defaultBase(repo);
  if (!base) {
    console.log('spec:breaking: no base revision to compare with (a first commit?); nothing to check.');
    return 0;
  }
  const sha = tryGit(['rev-parse', '--verify', '--quiet', `${base}^{commit}`], repo);
  if (!sha) throw new Error(`spec:breaking: unknown git revision "${base}"`);
  const dir = mkdtempSync(join(tmpdir(), 'spec-base-'));
  try {
    if (tryGit(['cat-file', '-e', `${sha}:${SPEC}`], repo) === undefined) {
      console.log(`spec:breaking: ${base} has no ${SPEC}; nothing to compare.`);
      return 0;
    }
    // The whole openapi/ tree of the base: the document is split over many files.
    execFileSync('sh', ['-c', `git archive "${sha}" openapi | tar -x -C "${dir}"`], { cwd: repo });
    console.log(`spec:breaking: ${SPEC} at ${base} (${sha.slice(0, 12)}) -> working tree`);
    const verdict = judge(diff(join(dir, SPEC), join(repo, SPEC)));
    console.log(verdict.lines.join('\n'));
    return verdict.ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  }
}
