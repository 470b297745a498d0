/**
 * What every ingest parser uses to read a client's document (parsed JSON, or decoded protobuf, so of no
 * known type) and to say what is wrong with one of its items.
 */
import { type Problem, ValidationError } from '../errors.ts';

/**
 * What is wrong with one field of an item: the field's path within the item, and the message. Parsers return
 * it in place of what they read and tell the two apart with `instanceof`: a class, so that nothing a client
 * sends (an object with `field` and `message` keys, say, as dimensions) can pass for one.
 */
export class FieldIssue implements Problem {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

/** The value as an object of fields, or undefined when it is not one (null and arrays are not). */
export const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** The value as a list, or an empty one when it is not a list. */
export const asList = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/**
 * A request body parsed as JSON. A body that is not JSON throws a ValidationError that says where JSON.parse
 * stopped and what the body must be (`mustBe`, e.g. "must be a JSON array of collectd value lists").
 */
export function parseJsonBody(body: string, mustBe: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, [
      { field: 'body', message: mustBe },
    ]);
  }
}
