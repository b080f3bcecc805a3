/**
 * The contract's `date` and `date-time` formats, checked strictly, for REST (the OpenAPI validator)
 * and GraphQL (src/http/schemas.ts) alike.
 *
 * ajv-formats' "fast" mode only checks the shape (`2030-13-01` and `2030-02-30` pass) and its
 * "full" mode still accepts a leap second and year 0000. JavaScript's `Date` cannot hold a leap
 * second, rolls `2030-02-30` over to March 2, and PostgreSQL has no year 0; so a value is accepted
 * only when it names a real instant both can store unchanged:
 *
 * - RFC 3339: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`, `T` and `Z` in either case;
 * - a real calendar day (leap years included), hours 00-23, minutes and seconds 00-59 (no leap
 *   second), an offset of at most ±23:59;
 * - years 0001-9999, also once the offset is applied (the instant in UTC).
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

function isCalendarDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** A full-date (`2030-02-28`) that is a real day of years 0001-9999. */
export function isStrictDate(value: string): boolean {
  const m = DATE.exec(value);
  return m !== null && isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** An RFC 3339 date-time naming a real instant of years 0001-9999 (see above). */
export function isStrictDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!isCalendarDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return false;
  const offsetMinutes = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  if (m[8] && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  // The instant in UTC must still fall in years 0001-9999 (0001-01-01T00:00:00+01:00 does not).
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const utcYear = utc.getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999;
}

/** The formats as ajv takes them (`ajv.addFormat(name, format)`, the validator's `formats` option). */
export const strictFormats = {
  date: { type: 'string', validate: isStrictDate },
  'date-time': { type: 'string', validate: isStrictDateTime },
} as const;
