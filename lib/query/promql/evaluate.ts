/**
 * Evaluates parsed PromQL (lib/query/promql/parse.ts) over the samples a {@link SampleSource} reads, with
 * Prometheus's semantics: instant selectors look back 5 minutes, range queries evaluate at `start + k*step`,
 * functions and arithmetic drop the metric name, vectors pair one-to-one on their labels. Pure: the source is
 * the only way out, and every read and loop is bounded (series, samples, points, time).
 *
 * First every selector's samples are read once, for the whole window the query needs; then the expression is
 * evaluated at each step in memory.
 */
import {
  type AggregateOperator,
  type Aggregation,
  type BinaryExpression,
  comparisonOperators,
  type Expression,
  type LabelMatcher,
  type MatrixSelector,
  type VectorSelector,
} from './ast.ts';
import { PromqlBadDataError, PromqlExecutionError, PromqlTimeoutError } from './errors.ts';
import { applyRangeFunction, type RangeSamples } from './functions.ts';
import { type Labels, labelsKey, metricNameLabel, withoutName } from './labels.ts';

/** One series a source found, with its samples in the window asked for, oldest first. */
export interface SeriesSamples {
  readonly labels: Labels;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

/** What a source is told about a read beside the matchers and window. */
export interface SelectOptions {
  readonly signal?: AbortSignal;
  /** The most series the read may return; past it the source throws (a 422). */
  readonly maxSeries: number;
  /** The most samples the read may return; past it the source throws (a 422). */
  readonly maxSamples: number;
}

/** Where samples come from: the series matching every matcher, with their samples in `[from, to]`. */
export interface SampleSource {
  select(
    matchers: readonly LabelMatcher[],
    from: number,
    to: number,
    options: SelectOptions,
  ): Promise<SeriesSamples[]>;
}

export const evaluationLimits = {
  /** Prometheus's default `--query.lookback-delta`: how far back an instant selector finds a sample. */
  lookbackMs: 5 * 60_000,
  /** Prometheus refuses range queries of more points per series than this. */
  maxPointsPerSeries: 11_000,
  /** Series one selector may match. */
  maxSeriesPerSelector: 10_000,
  /** Samples one query may hold in memory (Prometheus's `--query.max-samples` is 50 million). */
  maxSamples: 5_000_000,
  /**
   * How long evaluation may run, reads included, when the caller gives no shorter signal (the routes pass the
   * request's budget: 29 s locally, the Lambda's remaining time less a margin in AWS).
   */
  timeoutMs: 28_000,
} as const;

export type EvaluationLimits = { readonly [Limit in keyof typeof evaluationLimits]: number };

/** A sample of an instant vector. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** What an instant query returns. */
export type InstantResult =
  | { readonly resultType: 'scalar'; readonly time: number; readonly value: number }
  | { readonly resultType: 'string'; readonly time: number; readonly value: string }
  | { readonly resultType: 'vector'; readonly time: number; readonly samples: readonly Sample[] }
  | { readonly resultType: 'matrix'; readonly series: readonly SeriesSamples[] };

/** One series of a range query's result. */
export interface RangeSeries {
  readonly labels: Labels;
  readonly timestamps: number[];
  readonly values: number[];
}

type StepValue =
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'vector'; readonly samples: readonly Sample[] }
  | { readonly type: 'matrix'; readonly series: readonly SeriesSamples[] };

export interface EvaluateOptions {
  readonly signal?: AbortSignal;
  readonly limits?: Partial<EvaluationLimits>;
}

/** Evaluates an expression at one instant (epoch ms). */
export async function evaluateInstant(
  expression: Expression,
  time: number,
  source: SampleSource,
  options: EvaluateOptions = {},
): Promise<InstantResult> {
  const evaluator = await Evaluator.load(expression, time, time, source, options);
  const value = evaluator.at(expression, time);
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', time, value: value.value };
    case 'string':
      return { resultType: 'string', time, value: value.value };
    case 'vector':
      checkUniqueLabels(value.samples);
      return { resultType: 'vector', time, samples: value.samples };
    case 'matrix':
      return { resultType: 'matrix', series: value.series };
  }
}

/**
 * Evaluates an expression at `start + k*step` for every k with `start + k*step <= end` (epoch ms); a scalar
 * result becomes one series without labels. Throws PromqlBadDataError for a range vector or string
 * expression, and past {@link evaluationLimits}.maxPointsPerSeries steps.
 */
export async function evaluateRange(
  expression: Expression,
  start: number,
  end: number,
  step: number,
  source: SampleSource,
  options: EvaluateOptions = {},
): Promise<RangeSeries[]> {
  const limits = { ...evaluationLimits, ...options.limits };
  if (step <= 0) {
    throw new PromqlBadDataError(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  }
  if (end < start) throw new PromqlBadDataError('end timestamp must not be before start time');
  if (!(step > 0)) {
    throw new PromqlBadDataError(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  }
  const steps = Math.floor((end - start) / step);
  if (!(steps <= limits.maxPointsPerSeries)) {
    throw new PromqlBadDataError(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  const probe = staticType(expression);
  if (probe === 'matrix' || probe === 'string') {
    throw new PromqlBadDataError(
      `invalid expression type "${probe === 'matrix' ? 'range vector' : 'string'}" for range query, must be Scalar or instant Vector`,
    );
  }
  const evaluator = await Evaluator.load(expression, start, end, source, options);
  const series = new Map<string, RangeSeries>();
  // Counted, not accumulated: every step is evaluated once, whatever the floating point of start and step.
  for (let index = 0; index <= steps; index++) {
    const time = start + index * step;
    evaluator.checkTime();
    const value = evaluator.at(expression, time);
    const samples: readonly Sample[] =
      value.type === 'scalar'
        ? [{ labels: {}, value: value.value }]
        : value.type === 'vector'
          ? value.samples
          : [];
    const seen = new Set<string>();
    for (const sample of samples) {
      const key = labelsKey(sample.labels);
      if (seen.has(key)) throw duplicateLabelSet();
      seen.add(key);
      let entry = series.get(key);
      if (!entry) {
        entry = { labels: sample.labels, timestamps: [], values: [] };
        series.set(key, entry);
      }
      entry.timestamps.push(time);
      entry.values.push(sample.value);
    }
  }
  return [...series.values()];
}

const duplicateLabelSet = () =>
  new PromqlExecutionError('vector cannot contain metrics with the same labelset');

function checkUniqueLabels(samples: readonly Sample[]): void {
  const seen = new Set<string>();
  for (const sample of samples) {
    const key = labelsKey(sample.labels);
    if (seen.has(key)) throw duplicateLabelSet();
    seen.add(key);
  }
}

function staticType(expression: Expression): 'scalar' | 'vector' | 'matrix' | 'string' {
  switch (expression.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'matrix':
      return 'matrix';
    case 'unary':
      return staticType(expression.expression);
    case 'binary':
      return staticType(expression.left) === 'scalar' && staticType(expression.right) === 'scalar'
        ? 'scalar'
        : 'vector';
    default:
      return 'vector';
  }
}

/** Index of the first element of a sorted array greater than `value` (binary search). */
function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the first element of a sorted array at or above `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

const isComparison = (operator: string): boolean =>
  (comparisonOperators as readonly string[]).includes(operator);

/** Go's math.Pow where it differs from JavaScript's: 1^y is 1 for any y, (-1)^±Inf is 1. */
function power(base: number, exponent: number): number {
  if (base === 1) return 1;
  if (base === -1 && (exponent === Number.POSITIVE_INFINITY || exponent === Number.NEGATIVE_INFINITY))
    return 1;
  return base ** exponent;
}

/** An arithmetic result, or for a comparison whether it holds (as 1/0) — see {@link binaryValue}. */
function arithmetic(operator: string, left: number, right: number): number {
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return left / right;
    case '%':
      return left % right;
    case '^':
      return power(left, right);
    default:
      return Number.NaN;
  }
}

function compare(operator: string, left: number, right: number): boolean {
  switch (operator) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '>':
      return left > right;
    case '<':
      return left < right;
    case '>=':
      return left >= right;
    case '<=':
      return left <= right;
    default:
      return false;
  }
}

class Evaluator {
  private readonly data = new Map<VectorSelector, readonly SeriesSamples[]>();
  private readonly deadline: number;
  private readonly lookbackMs: number;

  private constructor(
    private readonly options: EvaluateOptions,
    limits: EvaluationLimits,
  ) {
    this.deadline = Date.now() + limits.timeoutMs;
    this.lookbackMs = limits.lookbackMs;
  }

  /** Reads every selector's samples for the window `[start, end]` of evaluation times. */
  static async load(
    expression: Expression,
    start: number,
    end: number,
    source: SampleSource,
    options: EvaluateOptions,
  ): Promise<Evaluator> {
    const limits = { ...evaluationLimits, ...options.limits };
    const evaluator = new Evaluator(options, limits);
    const selectors: { selector: VectorSelector; rangeMs: number }[] = [];
    const collect = (node: Expression): void => {
      switch (node.kind) {
        case 'selector':
          selectors.push({ selector: node, rangeMs: limits.lookbackMs });
          return;
        case 'matrix':
          selectors.push({ selector: node.selector, rangeMs: node.rangeMs });
          return;
        case 'call':
          collect(node.argument);
          return;
        case 'aggregate':
        case 'unary':
          collect(node.expression);
          return;
        case 'binary':
          collect(node.left);
          collect(node.right);
          return;
        default:
          return;
      }
    };
    collect(expression);
    const signal = evaluator.signal();
    let samplesLeft = limits.maxSamples;
    for (const { selector, rangeMs } of selectors) {
      evaluator.checkTime();
      const from = start - selector.offsetMs - rangeMs;
      const to = end - selector.offsetMs;
      let found: SeriesSamples[];
      try {
        found = await source.select(selector.matchers, from, to, {
          signal,
          maxSeries: limits.maxSeriesPerSelector,
          maxSamples: samplesLeft,
        });
      } catch (error) {
        if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
          throw evaluator.timeout(error);
        }
        throw error;
      }
      for (const series of found) samplesLeft -= series.timestamps.length;
      if (samplesLeft < 0) throw tooManySamples();
      evaluator.data.set(selector, found);
    }
    return evaluator;
  }

  private signal(): AbortSignal {
    const timeout = AbortSignal.timeout(Math.max(1, this.deadline - Date.now()));
    return this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
  }

  private timeout(cause?: unknown): PromqlTimeoutError {
    return new PromqlTimeoutError(
      'query timed out in query execution: ask for a shorter range or a larger step',
      {
        cause,
      },
    );
  }

  checkTime(): void {
    if (Date.now() > this.deadline || this.options.signal?.aborted) throw this.timeout();
  }

  at(expression: Expression, time: number): StepValue {
    switch (expression.kind) {
      case 'number':
        return { type: 'scalar', value: expression.value };
      case 'string':
        return { type: 'string', value: expression.value };
      case 'selector':
        return { type: 'vector', samples: this.instantSamples(expression, time) };
      case 'matrix':
        return { type: 'matrix', series: this.rangeSamples(expression, time) };
      case 'call':
        return { type: 'vector', samples: this.call(expression.function, expression.argument, time) };
      case 'aggregate':
        return { type: 'vector', samples: this.aggregate(expression, time) };
      case 'unary': {
        const value = this.at(expression.expression, time);
        if (expression.operator === '+') return value;
        if (value.type === 'scalar') return { type: 'scalar', value: -value.value };
        if (value.type === 'vector') {
          return {
            type: 'vector',
            samples: value.samples.map((sample) => ({
              labels: withoutName(sample.labels),
              value: -sample.value,
            })),
          };
        }
        return value;
      }
      case 'binary':
        return this.binary(expression, time);
    }
  }

  private instantSamples(selector: VectorSelector, time: number): Sample[] {
    const reference = time - selector.offsetMs;
    const samples: Sample[] = [];
    for (const series of this.data.get(selector) ?? []) {
      const index = upperBound(series.timestamps, reference) - 1;
      if (index < 0) continue;
      // Prometheus 2.x: a sample exactly lookback-delta old still counts.
      if ((series.timestamps[index] as number) < reference - this.lookbackMs) continue;
      samples.push({ labels: series.labels, value: series.values[index] as number });
    }
    return samples;
  }

  /** The samples of each series in `[time - offset - range, time - offset]`, as slices of the loaded arrays. */
  private ranges(matrix: MatrixSelector, time: number): { labels: Labels; range: RangeSamples }[] {
    const rangeEnd = time - matrix.selector.offsetMs;
    const rangeStart = rangeEnd - matrix.rangeMs;
    return (this.data.get(matrix.selector) ?? []).map((series) => ({
      labels: series.labels,
      range: {
        timestamps: series.timestamps,
        values: series.values,
        first: lowerBound(series.timestamps, rangeStart),
        end: upperBound(series.timestamps, rangeEnd),
      },
    }));
  }

  private rangeSamples(matrix: MatrixSelector, time: number): SeriesSamples[] {
    return this.ranges(matrix, time)
      .filter(({ range }) => range.end > range.first)
      .map(({ labels, range }) => ({
        labels,
        timestamps: range.timestamps.slice(range.first, range.end),
        values: range.values.slice(range.first, range.end),
      }));
  }

  private call(
    name: Parameters<typeof applyRangeFunction>[0],
    matrix: MatrixSelector,
    time: number,
  ): Sample[] {
    const rangeEnd = time - matrix.selector.offsetMs;
    const rangeStart = rangeEnd - matrix.rangeMs;
    const samples: Sample[] = [];
    for (const { labels, range } of this.ranges(matrix, time)) {
      const value = applyRangeFunction(name, range, rangeStart, rangeEnd);
      if (value === undefined) continue;
      samples.push({ labels: name === 'last_over_time' ? labels : withoutName(labels), value });
    }
    return samples;
  }

  private aggregate(aggregation: Aggregation, time: number): Sample[] {
    const input = this.at(aggregation.expression, time);
    if (input.type !== 'vector') return [];
    const { operator } = aggregation;
    const parameter = aggregation.parameter ? this.scalarAt(aggregation.parameter, time) : Number.NaN;
    const ranked = operator === 'topk' || operator === 'bottomk';
    let k = 0;
    if (ranked) {
      // Prometheus converts k to a 64-bit integer (toward zero) and answers nothing below 1.
      if (!Number.isFinite(parameter) || Math.abs(parameter) >= 2 ** 63) {
        throw new PromqlExecutionError(`Scalar value ${goFloat(parameter)} overflows int64`);
      }
      k = Math.trunc(parameter);
      if (k < 1) return [];
    }
    const groups = new Map<string, { labels: Labels; members: Sample[] }>();
    const grouping = new Set(aggregation.labels);
    for (const sample of input.samples) {
      const labels: Record<string, string> = {};
      for (const [name, value] of Object.entries(sample.labels)) {
        const listed = grouping.has(name);
        if (aggregation.without ? !listed && name !== metricNameLabel : listed) labels[name] = value;
      }
      const key = labelsKey(labels);
      let group = groups.get(key);
      if (!group) {
        group = { labels, members: [] };
        groups.set(key, group);
      }
      group.members.push(sample);
    }
    const results: Sample[] = [];
    for (const { labels, members } of groups.values()) {
      if (ranked) results.push(...rankedMembers(members, k, operator === 'topk'));
      else results.push({ labels, value: aggregateValues(operator, members, parameter) });
    }
    return results;
  }

  /** The value of a scalar expression (an aggregation's parameter) at a time. */
  private scalarAt(expression: Expression, time: number): number {
    const value = this.at(expression, time);
    return value.type === 'scalar' ? value.value : Number.NaN;
  }

  private binary(expression: BinaryExpression, time: number): StepValue {
    const left = this.at(expression.left, time);
    const right = this.at(expression.right, time);
    const { operator, returnBool } = expression;
    if (left.type === 'scalar' && right.type === 'scalar') {
      const value = isComparison(operator)
        ? Number(compare(operator, left.value, right.value))
        : arithmetic(operator, left.value, right.value);
      return { type: 'scalar', value };
    }
    if (left.type === 'vector' && right.type === 'vector') {
      return { type: 'vector', samples: this.vectorBinary(expression, left.samples, right.samples) };
    }
    const vectorOnLeft = left.type === 'vector';
    const vector = vectorOnLeft ? left : right;
    const scalar = vectorOnLeft ? right : left;
    if (vector.type !== 'vector' || scalar.type !== 'scalar') return { type: 'vector', samples: [] };
    const samples: Sample[] = [];
    const dropName = !isComparison(operator) || returnBool;
    for (const sample of vector.samples) {
      const [l, r] = vectorOnLeft ? [sample.value, scalar.value] : [scalar.value, sample.value];
      let value: number;
      if (isComparison(operator)) {
        const holds = compare(operator, l, r);
        if (returnBool) value = Number(holds);
        else if (holds) value = sample.value;
        else continue;
      } else value = arithmetic(operator, l, r);
      samples.push({ labels: dropName ? withoutName(sample.labels) : sample.labels, value });
    }
    return { type: 'vector', samples };
  }

  /**
   * Vector matching as Prometheus's VectorBinop: one-to-one, or with `group_left`/`group_right` many-to-one
   * (one-to-many), where the "one" side must hold each match group once and lends the `include` labels.
   */
  private vectorBinary(
    expression: BinaryExpression,
    left: readonly Sample[],
    right: readonly Sample[],
  ): Sample[] {
    const { operator, returnBool, matching } = expression;
    const names = new Set(matching.labels);
    const signature = (labels: Labels): string => {
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(labels)) {
        if (matching.on ? names.has(name) : !names.has(name) && name !== metricNameLabel) kept[name] = value;
      }
      return labelsKey(kept);
    };
    if (operator === 'and' || operator === 'or' || operator === 'unless') {
      return setOperation(operator, left, right, signature);
    }
    // The "many" side is walked, the "one" side looked up: group_right swaps them (and back for the values).
    const swapped = matching.group === 'right';
    const [many, one] = swapped ? [right, left] : [left, right];
    const oneBySignature = new Map<string, Sample>();
    for (const sample of one) {
      const key = signature(sample.labels);
      const other = oneBySignature.get(key);
      if (other) {
        throw new PromqlExecutionError(
          `found duplicate series for the match group ${key} on the ${swapped ? 'left' : 'right'} hand-side of the ` +
            `operation: [${labelsKey(other.labels)}, ${labelsKey(sample.labels)}];many-to-many matching not ` +
            'allowed: matching labels must be unique on one side',
        );
      }
      oneBySignature.set(key, sample);
    }
    const matched = new Map<string, Set<string>>();
    const results: Sample[] = [];
    const comparison = isComparison(operator);
    for (const sample of many) {
      const key = signature(sample.labels);
      const other = oneBySignature.get(key);
      if (!other) continue;
      const [leftValue, rightValue] = swapped ? [other.value, sample.value] : [sample.value, other.value];
      let value: number;
      if (comparison) {
        const holds = compare(operator, leftValue, rightValue);
        if (returnBool) value = Number(holds);
        else if (holds) value = leftValue;
        else continue;
      } else value = arithmetic(operator, leftValue, rightValue);
      const own: Record<string, string> = {};
      for (const [name, labelValue] of Object.entries(sample.labels)) {
        if ((!comparison || returnBool) && name === metricNameLabel) continue;
        if (!matching.group && (matching.on ? !names.has(name) : names.has(name))) continue;
        own[name] = labelValue;
      }
      let labels: Labels = own;
      if (matching.include?.length) {
        for (const name of matching.include) {
          const lent = other.labels[name];
          if (lent !== undefined && lent !== '') own[name] = lent;
          else delete own[name];
        }
        // In name order, as every label set here is.
        labels = Object.fromEntries(Object.entries(own).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      const seen = matched.get(key);
      if (!matching.group) {
        if (seen) {
          throw new PromqlExecutionError(
            'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
          );
        }
        matched.set(key, new Set());
      } else {
        const resultKey = labelsKey(labels);
        if (seen?.has(resultKey)) {
          throw new PromqlExecutionError(
            'multiple matches for labels: grouping labels must ensure unique matches',
          );
        }
        if (seen) seen.add(resultKey);
        else matched.set(key, new Set([resultKey]));
      }
      results.push({ labels, value });
    }
    return results;
  }
}

/**
 * `and`, `or`, `unless`: samples kept or added whole (their names too) by whether a sample of the other side has
 * the same matching labels; many-to-many is fine. `and`: the left's with a match on the right; `unless`: those
 * without; `or`: all the left's, then the right's without a match on the left.
 */
function setOperation(
  operator: 'and' | 'or' | 'unless',
  left: readonly Sample[],
  right: readonly Sample[],
  signature: (labels: Labels) => string,
): Sample[] {
  if (operator === 'or') {
    const leftSignatures = new Set(left.map((sample) => signature(sample.labels)));
    return [...left, ...right.filter((sample) => !leftSignatures.has(signature(sample.labels)))];
  }
  const rightSignatures = new Set(right.map((sample) => signature(sample.labels)));
  const wanted = operator === 'and';
  return left.filter((sample) => rightSignatures.has(signature(sample.labels)) === wanted);
}

/**
 * topk and bottomk: the group's k largest (smallest) samples, their labels whole, largest (smallest) first.
 * NaN ranks below every number either way, as in Prometheus.
 */
function rankedMembers(members: readonly Sample[], k: number, largest: boolean): Sample[] {
  const order = (a: Sample, b: Sample): number => {
    if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
    if (Number.isNaN(b.value)) return -1;
    return largest ? b.value - a.value : a.value - b.value;
  };
  return [...members].sort(order).slice(0, k);
}

/** One group's value for the aggregations that make one sample a group (all but topk and bottomk). */
function aggregateValues(operator: AggregateOperator, members: readonly Sample[], parameter: number): number {
  switch (operator) {
    case 'group':
      return 1;
    case 'count':
      return members.length;
    case 'sum':
    case 'avg': {
      let sum = 0;
      for (const { value } of members) sum += value;
      return operator === 'sum' ? sum : sum / members.length;
    }
    case 'min':
    case 'max': {
      // A NaN is replaced by the next value, as Prometheus does: NaN wins only where every value is NaN.
      let extreme = Number.NaN;
      for (const { value } of members) {
        if (Number.isNaN(extreme) || (operator === 'min' ? value < extreme : value > extreme))
          extreme = value;
      }
      return extreme;
    }
    case 'stddev':
    case 'stdvar': {
      // Welford's running mean and sum of squares, as Prometheus computes them (the same rounding).
      let count = 0;
      let mean = 0;
      let squares = 0;
      for (const { value } of members) {
        count += 1;
        const delta = value - mean;
        mean += delta / count;
        squares += delta * (value - mean);
      }
      return operator === 'stdvar' ? squares / count : Math.sqrt(squares / count);
    }
    case 'quantile':
      return quantile(
        parameter,
        members.map((member) => member.value),
      );
    default:
      // topk and bottomk keep samples (rankedMembers), they make no value.
      return Number.NaN;
  }
}

/**
 * Prometheus's quantile over a group: φ below 0 is -Inf, above 1 +Inf, NaN is NaN; otherwise the value at rank
 * φ·(n-1) of the sorted values, interpolated linearly between its neighbours.
 */
function quantile(phi: number, values: number[]): number {
  if (Number.isNaN(phi)) return Number.NaN;
  if (phi < 0) return Number.NEGATIVE_INFINITY;
  if (phi > 1) return Number.POSITIVE_INFINITY;
  const sorted = values.sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return (sorted[lower] as number) * (1 - weight) + (sorted[upper] as number) * weight;
}

/**
 * A number as Go's %v prints a float64 in Prometheus's messages: NaN, +Inf, -Inf, else the shortest digits, in
 * exponent form (`1e+19`, `1.5e-05`) when the exponent is below -4 or at least 6.
 */
function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(value);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Prometheus's error past `--query.max-samples`; sources throw it too. */
export const tooManySamples = () =>
  new PromqlExecutionError('query processing would load too many samples into memory in query execution');
