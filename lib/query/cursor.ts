import { ValidationError } from '../errors.ts';

/** An opaque cursor for a page position: base64url JSON, so clients treat it as a token. */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Reads a cursor this API returned. Throws ValidationError (field `cursor`) when it is not one, so a mangled
 * or foreign cursor is a clear 400 rather than a silent restart from the first page.
 */
export function decodeCursor<T>(text: string, isPosition: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isPosition(value)) {
    throw new ValidationError('query parameter "cursor" is not a cursor this API returned', [
      { field: 'cursor', message: 'pass the nextCursor of the previous page unchanged' },
    ]);
  }
  return value;
}
