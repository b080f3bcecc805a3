/** Git helpers for the breaking-change gates (spec:breaking, graphql:breaking): the base revision to compare with. */
import { execFileSync } from 'node:child_process';

export function git(args: string[], cwd: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function tryGit(args: string[], cwd: string): string | undefined {
  try {
    return git(args, cwd);
  } catch {
    return undefined;
  }
}

/** The merge-base with main (or origin/main); on main itself, the commit before. */
export function defaultBase(repo: string): string | undefined {
  const head = tryGit(['rev-parse', 'HEAD'], repo);
  const main = ['main', 'origin/main'].find((ref) => tryGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], repo));
  const mergeBase = main ? tryGit(['merge-base', 'HEAD', main], repo) : undefined;
  if (mergeBase && mergeBase !== head) return mergeBase;
  return tryGit(['rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}'], repo);
}
