import type { TestApp } from './app';

/**
 * The SQL statements the app sends to PostgreSQL while `run` runs, read from the ORM's query log:
 * every `em` query, QueryBuilder and raw `execute` is logged there, and so are the catalog's
 * prepared statements (src/db/prepared.ts), which bypass the ORM's connection.
 */
export async function countStatements<T>(app: TestApp, run: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const logger = app.orm.config.getLogger();
  const original = logger.logQuery;
  const statements: string[] = [];
  logger.logQuery = (context) => void statements.push(context.query ?? '');
  try {
    return { result: await run(), statements };
  } finally {
    logger.logQuery = original;
  }
}
