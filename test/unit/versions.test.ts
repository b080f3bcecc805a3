import { acceptsBreaking, isMajorBump, partsOf } from '../../scripts/versions';

describe('contract versions for the breaking-change gates', () => {
  it('reads SemVer with an optional prerelease', () => {
    expect(partsOf('2.0.0-dev.1')).toEqual({ major: 2, minor: 0, patch: 0, prerelease: 'dev.1' });
    expect(partsOf('v1.4.2')).toEqual({ major: 1, minor: 4, patch: 2, prerelease: undefined });
    expect(partsOf('two')).toBeUndefined();
  });

  it.each<[string | undefined, string, boolean, string]>([
    ['1.4.0', '2.0.0', true, 'a major bump'],
    ['1.4.0', '2.0.0-dev', true, 'a major bump to a prerelease of the next major'],
    [undefined, '1.0.0', true, 'no version before'],
    ['2.0.0-dev', '2.0.0-dev', true, 'two prereleases of the same next major'],
    ['2.0.0-dev.1', '2.0.0-dev.2', true, 'two numbered prereleases of the same next major'],
    ['2.0.0-dev', '2.0.0', false, 'releasing the next major must not break it further'],
    ['2.0.0', '2.0.0-dev', false, 'a released version followed by a prerelease of itself'],
    ['2.0.0', '2.1.0', false, 'a minor bump'],
    ['1.5.0-dev', '1.5.0-dev', false, 'prereleases of a minor version'],
    ['2.0.0-dev', '3.0.0-dev', true, 'a major bump between prereleases'],
    ['1.0.0', 'garbage', false, 'an unreadable version'],
  ])('%s -> %s: %s (%s)', (from, to, accepted) => {
    expect(acceptsBreaking(from, to)).toBe(accepted);
  });

  it('tells a major bump from a prerelease allowance', () => {
    expect(isMajorBump('1.0.0', '2.0.0-dev')).toBe(true);
    expect(isMajorBump('2.0.0-dev', '2.0.0-dev')).toBe(false);
  });
});
