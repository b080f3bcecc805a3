/** Money as decimal strings on the wire and integer minor units in arithmetic; never a float. */

const CANONICAL = /^(?:0|[1-9]\d*)\.\d\d$/;

/** "19.9" → "19.90", "7" → "7.00". The input was pattern-checked by the contract. */
export function normalizeMoney(amount: string): string {
  // Already in the wire format (what PostgreSQL's numeric(12,2) gives): as it is.
  if (CANONICAL.test(amount)) return amount;
  const [units = '', cents = ''] = amount.split('.');
  return `${BigInt(units).toString()}.${cents.padEnd(2, '0')}`;
}

/** "19.90" → 1990. */
export function toMinor(amount: string): number {
  const [units, cents = ''] = amount.split('.');
  return Number(units) * 100 + Number(cents.padEnd(2, '0'));
}

/** 1990 → "19.90". */
export function fromMinor(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`invalid amount ${minor}`);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

/** A numeric from PostgreSQL ("19.9", "19.90", "20", or a JSON number) in the wire format ("19.90"). */
export function moneyOut(value: string | number): string {
  return normalizeMoney(String(value));
}
