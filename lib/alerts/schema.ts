/**
 * Validation of rules, mutes and exclusions sent to the API: unknown fields are refused (a typo must not
 * silently do nothing), omitted ones get their defaults, and every problem names its field.
 *
 * zod's "mini" build with its English messages: the same validation as zod, at a twentieth of the bundle
 * (the alerts function stays well under 250 KB).
 */

import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import { describeValue, ProblemList, ValidationError } from '../errors.ts';
import { readTimestamp } from '../metrics/timestamp.ts';
import { dayMs, minuteMs } from '../time.ts';
import type { Exclusion, Mute, Rule, SeriesSelector } from './model.ts';
import { bandDirections, notifyModes, ruleKinds, severities, weekdays } from './model.ts';
import { isTimeZone, minuteOfDay } from './mutes.ts';
import { builtInDefaultRule, defaultRuleId } from './rules.ts';

z.config(en());

const maxSpanMs = 400 * dayMs;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const idField = z
  .string()
  .check(
    z.regex(idPattern, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  );

const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const integer = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

const selectorSchema = z.strictObject({
  seriesId: z.optional(text(1, 64)),
  metric: z.optional(text(1, 255)),
  dimensions: z.optional(z.record(text(1, 255), text(1, 255))),
});

const duration = (min: number, max: number) =>
  z
    .int('must be a whole number of milliseconds')
    .check(z.minimum(min, `must be at least ${min} ms`), z.maximum(max, `must be at most ${max} ms`));

const debounceSchema = z.strictObject({ breaches: integer(1, 100), outOf: integer(1, 100) }).check(
  z.refine((debounce) => debounce.breaches <= debounce.outOf, {
    message: '"breaches" must not be more than "outOf"',
    path: ['breaches'],
  }),
);

const common = {
  id: z.optional(idField),
  name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
  enabled: z._default(z.boolean(), true),
  selector: z._default(selectorSchema, {}),
  severity: z._default(z.nullable(z.enum(severities)), null),
  reminderIntervalMs: z._default(z.nullable(duration(minuteMs, 7 * dayMs)), null),
  // Optional, not defaulted: a rule saved without it reads as "incident" (lib/alerts/model.ts), as old ones do.
  notify: z.optional(z.enum(notifyModes)),
};

const bandRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('band'),
  sensitivity: z._default(z.number().check(z.minimum(0), z.maximum(1)), builtInDefaultRule.sensitivity),
  direction: z._default(z.enum(bandDirections), builtInDefaultRule.direction),
  minDeviation: z._default(
    z.strictObject({
      absolute: z._default(z.number().check(z.minimum(0)), builtInDefaultRule.minDeviation.absolute),
      relative: z._default(
        z.number().check(z.minimum(0), z.maximum(100)),
        builtInDefaultRule.minDeviation.relative,
      ),
    }),
    builtInDefaultRule.minDeviation,
  ),
  debounce: z._default(debounceSchema, builtInDefaultRule.debounce),
  immediateDeviation: z._default(
    z.nullable(z.number().check(z.positive())),
    builtInDefaultRule.immediateDeviation,
  ),
  minDurationMs: z._default(duration(0, dayMs), 0),
  recoveryBuckets: z._default(integer(1, 1000), builtInDefaultRule.recoveryBuckets),
});

const thresholdRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('threshold'),
  direction: z.enum(['above', 'below']),
  threshold: z.number(),
  debounce: z._default(debounceSchema, { breaches: 1, outOf: 1 }),
  minDurationMs: z._default(duration(0, dayMs), 0),
  recoveryBuckets: z._default(integer(1, 1000), 3),
});

const noDataRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('nodata'),
  afterMs: duration(minuteMs, 30 * dayMs),
});

/** An instant as epoch milliseconds or an ISO-8601 string, read as the ingest API reads timestamps. */
export const instant = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((raw: number | string, context) => {
    const parsed = readTimestamp(raw, Number.POSITIVE_INFINITY);
    if (typeof parsed === 'string') {
      context.issues.push({ code: 'custom', message: parsed, input: raw });
      return z.NEVER;
    }
    return parsed;
  }),
);

const clockTime = z
  .string()
  .check(z.regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time of day "HH:MM" from 00:00 to 24:00'));

const onceSchema = z.strictObject({ kind: z.literal('once'), start: instant, end: instant }).check(
  z.refine((window) => window.end > window.start, { message: 'must be after "start"', path: ['end'] }),
  z.refine((window) => window.end - window.start <= maxSpanMs, {
    message: 'a one-off window is at most 400 days long',
    path: ['end'],
  }),
);

const weeklySchema = z
  .strictObject({
    kind: z.literal('weekly'),
    days: z.array(z.enum(weekdays)).check(
      z.minLength(1, 'must list at least one day'),
      z.refine((days) => new Set(days).size === days.length, 'must not repeat a day'),
    ),
    start: clockTime,
    end: clockTime,
    timeZone: z._default(
      z.string().check(z.refine(isTimeZone, 'must be an IANA time zone such as "UTC" or "Europe/Paris"')),
      'UTC',
    ),
  })
  .check(
    z.refine((window) => minuteOfDay(window.start) !== minuteOfDay(window.end), {
      message: 'must differ from "start"',
      path: ['end'],
    }),
  );

const scheduleSchema = z.discriminatedUnion('kind', [onceSchema, weeklySchema]);

const muteSchema = z.strictObject({
  id: z.optional(idField),
  ruleId: z._default(z.nullable(idField), null),
  selector: z._default(z.nullable(selectorSchema), null),
  schedule: scheduleSchema,
  reason: z._default(z.string().check(z.maxLength(500)), ''),
});

const exclusionSchema = z
  .strictObject({
    id: z.optional(idField),
    selector: z._default(z.nullable(selectorSchema), null),
    start: instant,
    end: instant,
    reason: z._default(z.string().check(z.maxLength(500)), ''),
  })
  .check(
    z.refine((period) => period.end > period.start, { message: 'must be after "start"', path: ['end'] }),
    z.refine((period) => period.end - period.start <= maxSpanMs, {
      message: 'an exclusion is at most 400 days long',
      path: ['end'],
    }),
  );

/**
 * Turns zod's issues into the API's problems (field path and message) and throws them as one 400: the first
 * ones and their count (a body may hold thousands of bad fields, or one huge bad string). zod reports the
 * unknown keys of an object as one issue on the object; each becomes a problem of its own, named by its path
 * (`selector.metrc`), so that a typo is found without reading the whole body again.
 */
function fail(what: string, issues: readonly (Pick<$ZodIssue, 'path' | 'message'> | $ZodIssue)[]): never {
  const problems = new ProblemList();
  for (const issue of issues) {
    const unknownKeys = 'code' in issue && issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    if (problems.full) {
      problems.addUnlisted(unknownKeys?.length ?? 1);
      continue;
    }
    if (unknownKeys) {
      for (const [position, key] of unknownKeys.entries()) {
        if (problems.full) {
          problems.addUnlisted(unknownKeys.length - position);
          break;
        }
        problems.add(undefined, fieldPath([...issue.path, key]), unknownFieldMessage);
      }
      continue;
    }
    problems.add(undefined, fieldPath(issue.path), issue.message);
  }
  const first = problems.listed[0];
  throw new ValidationError(
    first ? `invalid ${what}: ${first.field} ${first.message}` : `invalid ${what}`,
    problems,
  );
}

const unknownFieldMessage = 'is not a known field';

/** A problem's field: the path into the body (`debounce.breaches`), or `(body)` for the body itself. */
const fieldPath = (path: readonly PropertyKey[]): string => path.map(String).join('.') || '(body)';

export function parseWith<T>(schema: z.ZodMiniType<T>, what: string, body: unknown): T {
  // A missing field reads better as "is required" than as zod's "expected number, received undefined".
  const result = schema.safeParse(body, {
    error: (issue) => (issue.input === undefined && issue.code !== 'custom' ? 'is required' : undefined),
  });
  if (!result.success) fail(what, result.error.issues);
  return result.data;
}

/** A request body as a JSON object, or a 400 that says why not. */
export function jsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, [
      { field: '(body)', message: 'is not valid JSON' },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`the body must be a JSON object describing the ${what}`, [
      { field: '(body)', message: `must be an object, got ${describeValue(parsed)}` },
    ]);
  }
  return parsed as Record<string, unknown>;
}

const cleanSelector = (selector: z.infer<typeof selectorSchema>): SeriesSelector => ({
  ...(selector.seriesId !== undefined && { seriesId: selector.seriesId }),
  ...(selector.metric !== undefined && { metric: selector.metric }),
  ...(selector.dimensions !== undefined && { dimensions: selector.dimensions }),
});

/**
 * A rule from an API body. `pathId` is the id in the URL (PUT), which the body may repeat but not contradict;
 * without either a new id is made with `newId`.
 */
export function parseRule(
  body: Record<string, unknown>,
  pathId: string | undefined,
  newId: () => string,
): Rule {
  const kind = body.kind;
  if (!(ruleKinds as readonly unknown[]).includes(kind)) {
    throw new ValidationError(`invalid rule: kind must be one of ${ruleKinds.join(', ')}`, [
      { field: 'kind', message: `must be one of ${ruleKinds.join(', ')}, got ${describeValue(kind)}` },
    ]);
  }
  const schema =
    kind === 'band' ? bandRuleSchema : kind === 'threshold' ? thresholdRuleSchema : noDataRuleSchema;
  const parsed = parseWith<z.infer<typeof schema>>(schema, 'rule', body);
  const id = resolveId(parsed.id, pathId, newId, 'rule');
  if (id === defaultRuleId && parsed.kind !== 'band') {
    fail('rule', [{ path: ['kind'], message: 'of the default rule must be "band"' }]);
  }
  return { ...parsed, id, name: parsed.name ?? id, selector: cleanSelector(parsed.selector) } as Rule;
}

/** A mute from an API body (see {@link parseRule} for ids). `now` stamps its creation. */
export function parseMute(body: Record<string, unknown>, newId: () => string, now: number): Mute {
  const parsed = parseWith(muteSchema, 'mute', body);
  return {
    id: resolveId(parsed.id, undefined, newId, 'mute'),
    ruleId: parsed.ruleId,
    selector: parsed.selector && cleanSelector(parsed.selector),
    schedule: parsed.schedule,
    reason: parsed.reason,
    createdAt: now,
  };
}

/** An exclusion from an API body. */
export function parseExclusion(body: Record<string, unknown>, newId: () => string, now: number): Exclusion {
  const parsed = parseWith(exclusionSchema, 'exclusion', body);
  return {
    id: resolveId(parsed.id, undefined, newId, 'exclusion'),
    selector: parsed.selector && cleanSelector(parsed.selector),
    start: parsed.start,
    end: parsed.end,
    reason: parsed.reason,
    createdAt: now,
  };
}

function resolveId(
  bodyId: string | undefined,
  pathId: string | undefined,
  newId: () => string,
  what: string,
) {
  if (pathId !== undefined && !idPattern.test(pathId)) {
    throw new ValidationError(`invalid ${what} id in the path`, [
      { field: 'id', message: 'must be 1 to 64 letters, digits, ".", "_" or "-"' },
    ]);
  }
  if (bodyId !== undefined && pathId !== undefined && bodyId !== pathId) {
    throw new ValidationError(`the body's id "${bodyId}" differs from the path's "${pathId}"`, [
      { field: 'id', message: `must be "${pathId}" (the id in the path) or left out` },
    ]);
  }
  return pathId ?? bodyId ?? newId();
}
