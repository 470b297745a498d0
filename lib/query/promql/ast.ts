/**
 * The PromQL expressions Normalcy evaluates, as lib/query/promql/parse.ts builds them from the syntax tree
 * of `@prometheus-io/lezer-promql`. Times and durations are epoch milliseconds.
 */

/** The four value types of PromQL. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export const matchOperators = ['=', '!=', '=~', '!~'] as const;
export type MatchOperator = (typeof matchOperators)[number];

/** One label matcher of a selector: `host=~"web-.*"`. */
export interface LabelMatcher {
  readonly label: string;
  readonly operator: MatchOperator;
  readonly value: string;
}

export const rangeFunctions = [
  'rate',
  'increase',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
] as const;
export type RangeFunction = (typeof rangeFunctions)[number];

export const aggregateOperators = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
] as const;
export type AggregateOperator = (typeof aggregateOperators)[number];

/** The aggregations that take a scalar parameter before the vector (`topk(3, x)`, `quantile(0.9, x)`). */
export const parameterisedAggregations: readonly AggregateOperator[] = ['topk', 'bottomk', 'quantile'];

export const arithmeticOperators = ['+', '-', '*', '/', '%', '^'] as const;
export const comparisonOperators = ['==', '!=', '>', '<', '>=', '<='] as const;
/** Set operators: between instant vectors only, matching series by their labels (not their values). */
export const setOperators = ['and', 'or', 'unless'] as const;
export type ArithmeticOperator = (typeof arithmeticOperators)[number];
export type ComparisonOperator = (typeof comparisonOperators)[number];
export type SetOperator = (typeof setOperators)[number];
export type BinaryOperator = ArithmeticOperator | ComparisonOperator | SetOperator;

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}

/** An instant vector selector: `name{matchers} offset 5m` (the name is a `__name__` matcher). */
export interface VectorSelector {
  readonly kind: 'selector';
  readonly matchers: readonly LabelMatcher[];
  readonly offsetMs: number;
}

/** A range vector selector: `selector[5m]`. */
export interface MatrixSelector {
  readonly kind: 'matrix';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
}

/** `rate(x[5m])`, `avg_over_time(x[1h])`... */
export interface RangeFunctionCall {
  readonly kind: 'call';
  readonly function: RangeFunction;
  readonly argument: MatrixSelector;
}

/** `sum by (host) (x)`, `avg without (job) (x)`, `count(x)`. */
export interface Aggregation {
  readonly kind: 'aggregate';
  readonly operator: AggregateOperator;
  /** The scalar parameter of topk, bottomk and quantile (k or φ), evaluated at each step. */
  readonly parameter?: Expression;
  /** `by` keeps only `labels`; `without` drops them (and the name). Neither: `by ()`, one group. */
  readonly without: boolean;
  readonly labels: readonly string[];
  readonly expression: Expression;
}

/** How two vectors' series pair up: on all labels but the name, `on(labels)`, or `ignoring(labels)`. */
export interface VectorMatching {
  readonly on: boolean;
  readonly labels: readonly string[];
  /**
   * `group_left` (many-to-one: several left samples may match one right sample) or `group_right` (one-to-many);
   * absent for one-to-one matching.
   */
  readonly group?: 'left' | 'right';
  /** Labels the result takes from the "one" side (`group_left(label, ...)`). */
  readonly include?: readonly string[];
}

export interface BinaryExpression {
  readonly kind: 'binary';
  readonly operator: BinaryOperator;
  readonly left: Expression;
  readonly right: Expression;
  /** `> bool`: comparisons return 0 or 1 instead of filtering. */
  readonly returnBool: boolean;
  readonly matching: VectorMatching;
}

export interface UnaryExpression {
  readonly kind: 'unary';
  readonly operator: '-' | '+';
  readonly expression: Expression;
}

export type Expression =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | RangeFunctionCall
  | Aggregation
  | BinaryExpression
  | UnaryExpression;

/** The type an expression evaluates to. O(depth). */
export function typeOf(expression: Expression): ValueType {
  switch (expression.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'selector':
    case 'call':
    case 'aggregate':
      return 'vector';
    case 'matrix':
      return 'matrix';
    case 'unary':
      return typeOf(expression.expression);
    case 'binary':
      return typeOf(expression.left) === 'scalar' && typeOf(expression.right) === 'scalar'
        ? 'scalar'
        : 'vector';
  }
}
