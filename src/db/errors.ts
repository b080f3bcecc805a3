/** The name of the constraint a driver exception reports ("duplicate key value violates unique constraint \"x\""). */
export function constraintOf(err: { constraint?: string; message: string }): string {
  return err.constraint ?? /constraint "([^"]+)"/.exec(err.message)?.[1] ?? '';
}
