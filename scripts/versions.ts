/**
 * Contract versions (SemVer) for the breaking-change gates: `spec:breaking` (OpenAPI info.version)
 * and `graphql:breaking` (the schema's `Version:` line).
 */

/** A version's parts: `2.0.0-dev.1` is major 2, minor 0, patch 0, prerelease `dev.1`. */
export function partsOf(version: string | undefined): { major: number; minor: number; patch: number; prerelease?: string } | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/.exec(version ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] } : undefined;
}

/**
 * Whether a contract at version `to` may break one at version `from`: a major bump (1.4.0 -> 2.0.0,
 * or -> 2.0.0-dev), or two prereleases of the same next major (2.0.0-dev -> 2.0.0-dev). A
 * prerelease promises no compatibility (SemVer item 9), so while the next major is under
 * development its breaking changes gather there; releasing it (2.0.0-dev -> 2.0.0) must not break
 * anything more, and neither may a prerelease of a minor or patch version (1.5.0-dev).
 */
export function acceptsBreaking(from: string | undefined, to: string | undefined): boolean {
  const a = partsOf(from);
  const b = partsOf(to);
  if (!b) return false;
  if (isMajorBump(from, to)) return true;
  const nextMajor = (v: NonNullable<typeof a>) => v.prerelease !== undefined && v.minor === 0 && v.patch === 0;
  return !!a && a.major === b.major && nextMajor(a) && nextMajor(b);
}

/** Whether `to` has a higher major version than `from` (an absent `from` counts as 0). */
export function isMajorBump(from: string | undefined, to: string | undefined): boolean {
  return (partsOf(to)?.major ?? 0) > (partsOf(from)?.major ?? 0);
}
