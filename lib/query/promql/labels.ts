/**
 * Label sets and label matchers, as Prometheus defines them: a label with an empty value is no label, and
 * regular expressions are RE2 (linear time, so no pattern can stall a query) anchored at both ends.
 */
import { RE2JS } from 're2js';
import type { LabelMatcher } from './ast.ts';
import { PromqlBadDataError } from './errors.ts';

/** The label holding a series' metric name. */
export const metricNameLabel = '__name__';

/** A set of labels: name → value, no empty values. */
export type Labels = Readonly<Record<string, string>>;

/**
 * The canonical text of a label set (names sorted): two sets are the same series exactly when their keys
 * are equal. O(n log n).
 *
 * @example labelsKey({ b: '2', a: '1' }) // '{"a":"1","b":"2"}' (as JSON, sorted)
 */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  );
}

/** The labels without the metric name (what functions and arithmetic return). */
export function withoutName(labels: Labels): Labels {
  if (!(metricNameLabel in labels)) return labels;
  const { [metricNameLabel]: _name, ...rest } = labels;
  return rest;
}

/** A compiled matcher: whether a label's value (`''` when the series lacks the label) matches. */
export interface CompiledMatcher {
  readonly label: string;
  test(value: string): boolean;
}

const compiled = new Map<string, CompiledMatcher>();
const maxCompiledKept = 1_000;

/**
 * Compiles a matcher; a regular expression is RE2, anchored (`^(?:re)$`) as Prometheus anchors it. Throws
 * what `fail` makes (a 400 by default) for a pattern RE2 refuses (backreferences, lookarounds...).
 * Compiled matchers are kept (at most a thousand), as dashboards repeat the same selectors. O(pattern).
 *
 * @example compileMatcher({ label: 'host', operator: '=~', value: 'web-.*' }).test('web-1') // true
 */
export function compileMatcher(
  matcher: LabelMatcher,
  fail: (message: string) => Error = (message) => new PromqlBadDataError(message),
): CompiledMatcher {
  const cacheKey = `${matcher.operator}\u0000${matcher.label}\u0000${matcher.value}`;
  const known = compiled.get(cacheKey);
  if (known) return known;
  const { label, operator, value } = matcher;
  let test: (candidate: string) => boolean;
  if (operator === '=') test = (candidate) => candidate === value;
  else if (operator === '!=') test = (candidate) => candidate !== value;
  else {
    let pattern: ReturnType<typeof RE2JS.compile>;
    try {
      pattern = RE2JS.compile(`^(?:${value})$`);
    } catch (error) {
      throw fail(
        `invalid regular expression ${JSON.stringify(value.slice(0, 80))}: ${(error as Error).message}`,
      );
    }
    const matches = (candidate: string) => pattern.matcher(candidate).matches();
    test = operator === '=~' ? matches : (candidate) => !matches(candidate);
  }
  const result: CompiledMatcher = { label, test };
  if (compiled.size >= maxCompiledKept) compiled.clear();
  compiled.set(cacheKey, result);
  return result;
}

/** Whether a label set passes every matcher (a missing label reads as `''`). O(matchers). */
export function matchesAll(labels: Labels, matchers: readonly CompiledMatcher[]): boolean {
  return matchers.every((matcher) => matcher.test(labels[matcher.label] ?? ''));
}
