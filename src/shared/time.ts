/** PostgreSQL timestamps arrive as Date (entities) or text (raw rows: "2026-11-26 01:14:05.234+00"); both → ISO 8601 UTC. */
export function toIso(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
}
