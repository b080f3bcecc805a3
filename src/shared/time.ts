/** PostgreSQL timestamps arrive as Date (entities) or text (raw rows: "2026-11-26 01:14:05.234+00"); both → ISO 8601 UTC. */
export function toIso(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  // The sessions run in UTC, so rows read "2026-11-26 01:14:05.234+00": rewritten without parsing.
  const utc = UTC_TEXT.exec(value);
  if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0')}Z`;
  return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
}

const UTC_TEXT = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,3}))?(?:\+00(?::00)?|Z)$/;
