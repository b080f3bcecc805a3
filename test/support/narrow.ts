/**
 * Narrowing for `noUncheckedIndexedAccess`: the element (or value) a test relies on, or a clear error
 * that fails the test where `rows[0].x` would have failed with a TypeError. They check presence only,
 * never what the value is: assertions stay in the tests.
 */

/** The element at `index` (negative counts from the end, as `Array.prototype.at`); throws when out of range. */
export function itemAt<T>(items: readonly T[], index: number): T {
  if (index >= items.length || index < -items.length) {
    throw new Error(`expected an element at index ${index}, but the list has ${items.length}`);
  }
  return items.at(index) as T;
}

/** The first element; throws when the list is empty. */
export const firstOf = <T>(items: readonly T[]): T => itemAt(items, 0);

/** The last element; throws when the list is empty. */
export const lastOf = <T>(items: readonly T[]): T => itemAt(items, -1);

/** `value`, or a clear error naming `what` was missing (for lookups by key). */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what} to be defined`);
  return value;
}
