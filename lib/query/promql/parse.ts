/**
 * PromQL text → {@link Expression}: the syntax tree comes from the Prometheus project's own grammar
 * (`@prometheus-io/lezer-promql`, the parser of Prometheus's web UI); this file only reads it, checks types as
 * Prometheus's parser does (a 400 `bad_data`), and refuses with a 422 naming it whatever part of PromQL
 * Normalcy does not evaluate.
 */
import { parser } from '@prometheus-io/lezer-promql';
import {
  type AggregateOperator,
  aggregateOperators,
  type BinaryOperator,
  comparisonOperators,
  type Expression,
  type LabelMatcher,
  type MatchOperator,
  parameterisedAggregations,
  type RangeFunction,
  rangeFunctions,
  setOperators,
  typeOf,
  type VectorMatching,
  type VectorSelector,
} from './ast.ts';
import { PromqlBadDataError, unsupported } from './errors.ts';
import { compileMatcher } from './labels.ts';

/** A node of the grammar's syntax tree. */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Limits on the query text, so that no query costs more to parse than to read. */
export const parseLimits = {
  /** Characters of a query (Grafana's queries are a few hundred). */
  maxQueryLength: 16 * 1024,
  /** Nesting of expressions (parentheses, functions, operators). */
  maxDepth: 100,
} as const;

/** The name of each binary operator token of the grammar. */
const binaryOperators: Readonly<Record<string, BinaryOperator>> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

/** Binary operators of the grammar that Normalcy does not evaluate. */
const unsupportedOperators: Readonly<Record<string, string>> = {
  Atan2: 'atan2',
};

const matchOperatorOf: Readonly<Record<string, MatchOperator>> = {
  EqlSingle: '=',
  Neq: '!=',
  EqlRegex: '=~',
  NeqRegex: '!~',
};

const durationUnits: Readonly<Record<string, number>> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

/**
 * Parses a PromQL query. Throws PromqlBadDataError (400) for text that is not PromQL or is mistyped, with
 * Prometheus's `line:column: parse error: ...` prefix, and PromqlExecutionError (422) naming the first part
 * Normalcy does not evaluate. O(n) in the query's length.
 *
 * @example parsePromql('1+1') // { kind: 'binary', operator: '+', left: {kind:'number',value:1}, ... }
 */
export function parsePromql(query: string): Expression {
  if (query.length > parseLimits.maxQueryLength) {
    throw new PromqlBadDataError(
      `the query is ${query.length} characters long, more than the limit of ${parseLimits.maxQueryLength}`,
    );
  }
  if (query.trim() === '') throw new PromqlBadDataError('1:1: parse error: no expression found in input');
  const tree = parser.parse(query);
  let errorAt: number | undefined;
  tree.iterate({
    enter: (node) => {
      if (errorAt !== undefined) return false;
      if (node.type.isError) errorAt = node.from;
      return undefined;
    },
  });
  if (errorAt !== undefined) throw syntaxError(query, errorAt);
  const top = tree.topNode.firstChild;
  if (!top) throw new PromqlBadDataError('1:1: parse error: no expression found in input');
  return new TreeReader(query).expression(top, 0);
}

/** `1:5: parse error: unexpected "}"`, as Prometheus words it (line and column count from 1). */
function syntaxError(query: string, offset: number): PromqlBadDataError {
  const before = query.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const rest = query.slice(offset).trimStart();
  const what =
    rest === '' ? 'unexpected end of input' : `unexpected ${JSON.stringify(/^\w+|^\S/u.exec(rest)?.[0])}`;
  return new PromqlBadDataError(`${line}:${column}: parse error: ${what}`);
}

/** Reads lezer nodes into expressions, checking types on the way up. */
class TreeReader {
  constructor(private readonly query: string) {}

  private text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  private position(node: SyntaxNode): string {
    const before = this.query.slice(0, node.from);
    return `${before.split('\n').length}:${node.from - before.lastIndexOf('\n')}`;
  }

  private bad(node: SyntaxNode, message: string): PromqlBadDataError {
    return new PromqlBadDataError(`${this.position(node)}: parse error: ${message}`);
  }

  expression(node: SyntaxNode, depth: number): Expression {
    if (depth > parseLimits.maxDepth) {
      throw this.bad(node, `the expression nests deeper than ${parseLimits.maxDepth} levels`);
    }
    const next = depth + 1;
    switch (node.name) {
      case 'ParenExpr':
        return this.expression(this.onlyChild(node), next);
      case 'NumberDurationLiteral':
        return { kind: 'number', value: this.number(node) };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(node) };
      case 'VectorSelector':
        return this.selector(node, 0);
      case 'MatrixSelector':
        return this.matrix(node, 0);
      case 'OffsetExpr':
        return this.offset(node);
      case 'UnaryExpr':
        return this.unary(node, next);
      case 'BinaryExpr':
        return this.binary(node, next);
      case 'FunctionCall':
        return this.call(node, next);
      case 'AggregateExpr':
        return this.aggregate(node, next);
      case 'SubqueryExpr':
        throw unsupported('a subquery (`expr[range:step]`)');
      case 'StepInvariantExpr':
        throw unsupported('the `@` modifier');
      default:
        throw unsupported(`the expression \`${this.text(node).slice(0, 60)}\``);
    }
  }

  private children(node: SyntaxNode): SyntaxNode[] {
    const found: SyntaxNode[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) found.push(child);
    return found;
  }

  private onlyChild(node: SyntaxNode): SyntaxNode {
    const child = node.firstChild;
    if (!child) throw this.bad(node, 'empty expression');
    return child;
  }

  /** A number literal: decimal, `0x1f`, `Inf`, `NaN`, with a sign; a duration (`5m`) counts its seconds. */
  private number(node: SyntaxNode): number {
    const text = this.text(node).trim();
    const sign = text.startsWith('-') ? -1 : 1;
    const unsigned = text.replace(/^[+-]/, '').toLowerCase();
    if (unsigned === 'inf') return sign * Number.POSITIVE_INFINITY;
    if (unsigned === 'nan') return Number.NaN;
    if (/^0x[0-9a-f]+$/.test(unsigned)) return sign * Number.parseInt(unsigned.slice(2), 16);
    const duration = parseDurationText(unsigned);
    if (duration !== undefined && /[a-z]/.test(unsigned)) return (sign * duration) / 1000;
    const value = Number(unsigned);
    if (unsigned === '' || Number.isNaN(value)) throw this.bad(node, `bad number ${JSON.stringify(text)}`);
    return sign * value;
  }

  private string(node: SyntaxNode): string {
    const value = unquote(this.text(node));
    if (value === undefined) throw this.bad(node, `bad string ${this.text(node).slice(0, 40)}`);
    return value;
  }

  private duration(node: SyntaxNode | null, what: string): number {
    if (!node) throw unsupported(`a ${what} without a duration`);
    const text = this.text(node).trim();
    if (text.startsWith('-')) throw unsupported(`a negative ${what}`);
    if (node.firstChild?.nextSibling) throw unsupported(`arithmetic in a ${what}`);
    const ms = parseDurationText(text);
    if (ms === undefined) {
      throw this.bad(node, `bad duration ${JSON.stringify(text)} (write one such as 5m, 1h30m or 30s)`);
    }
    return ms;
  }

  private selector(node: SyntaxNode, offsetMs: number): VectorSelector {
    const matchers: LabelMatcher[] = [];
    for (const child of this.children(node)) {
      if (child.name === 'Identifier') {
        matchers.push({ label: '__name__', operator: '=', value: this.text(child) });
      } else if (child.name === 'LabelMatchers') {
        for (const matcher of this.children(child)) matchers.push(this.matcher(matcher));
      } else {
        throw unsupported(`\`${this.text(child).slice(0, 40)}\` in a selector`);
      }
    }
    const names = matchers.filter((matcher) => matcher.label === '__name__' && matcher.operator === '=');
    if (names.length > 1 && new Set(names.map((name) => name.value)).size > 1) {
      throw this.bad(node, `metric name must not be set twice: ${JSON.stringify(names[1]?.value)}`);
    }
    if (matchers.every((matcher) => compileMatcher(matcher).test(''))) {
      throw this.bad(node, 'vector selector must contain at least one non-empty matcher');
    }
    return { kind: 'selector', matchers, offsetMs };
  }

  private matcher(node: SyntaxNode): LabelMatcher {
    // `{"shop.requests"}`: a quoted name alone is the metric name (Prometheus 3's UTF-8 names).
    if (node.name === 'QuotedLabelName') {
      return { label: '__name__', operator: '=', value: this.string(this.onlyChild(node)) };
    }
    const [name, operator, value] = this.children(node);
    if (!name || !operator || !value) throw this.bad(node, 'incomplete label matcher');
    const label = name.name === 'QuotedLabelName' ? this.string(this.onlyChild(name)) : this.text(name);
    const op = matchOperatorOf[operator.firstChild?.name ?? ''];
    if (!op) throw this.bad(operator, `unknown match operator ${this.text(operator)}`);
    const matcher: LabelMatcher = { label, operator: op, value: this.string(value) };
    compileMatcher(matcher, (message) => this.bad(value, message));
    return matcher;
  }

  private matrix(node: SyntaxNode, offsetMs: number): Expression {
    const [inner, range] = this.children(node);
    if (inner?.name !== 'VectorSelector') {
      throw this.bad(node, 'ranges only allowed for vector selectors');
    }
    const rangeMs = this.duration(range ?? null, 'range');
    if (rangeMs <= 0) throw this.bad(node, 'the range of a range vector selector must be greater than 0');
    return { kind: 'matrix', selector: this.selector(inner, offsetMs), rangeMs };
  }

  private offset(node: SyntaxNode): Expression {
    const children = this.children(node);
    const inner = children[0];
    const durationNode = children.at(-1) ?? null;
    if (!inner) throw this.bad(node, 'offset without an expression');
    const offsetMs = this.duration(durationNode, 'offset');
    if (inner.name === 'VectorSelector') return this.selector(inner, offsetMs);
    if (inner.name === 'MatrixSelector') return this.matrix(inner, offsetMs);
    if (inner.name === 'SubqueryExpr') throw unsupported('a subquery (`expr[range:step]`)');
    throw this.bad(
      node,
      'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
    );
  }

  private unary(node: SyntaxNode, depth: number): Expression {
    const [operatorNode, operand] = this.children(node);
    if (!operatorNode || !operand) throw this.bad(node, 'incomplete unary expression');
    const expression = this.expression(operand, depth);
    const type = typeOf(expression);
    if (type !== 'scalar' && type !== 'vector') {
      throw this.bad(
        node,
        `unary expression only allowed on expressions of type scalar or instant vector, got "${typeName(type)}"`,
      );
    }
    const operator = this.text(operatorNode) === '-' ? '-' : '+';
    if (expression.kind === 'number')
      return operator === '-' ? { kind: 'number', value: -expression.value } : expression;
    return { kind: 'unary', operator, expression };
  }

  private binary(node: SyntaxNode, depth: number): Expression {
    const children = this.children(node);
    const leftNode = children[0];
    const rightNode = children.at(-1);
    const operatorNode = children[1];
    if (!leftNode || !rightNode || !operatorNode || children.length < 3) {
      throw this.bad(node, 'incomplete binary expression');
    }
    const unsupportedOperator = unsupportedOperators[operatorNode.name];
    if (unsupportedOperator) throw unsupported(`the \`${unsupportedOperator}\` operator`);
    const operator = binaryOperators[operatorNode.name];
    if (!operator) throw unsupported(`the operator \`${this.text(operatorNode)}\``);
    let returnBool = false;
    let matching: VectorMatching = { on: false, labels: [] };
    let hasMatching = false;
    for (const modifier of children.slice(2, -1)) {
      if (modifier.name === 'BoolModifier') returnBool = true;
      else if (modifier.name === 'MatchingModifierClause') {
        hasMatching = true;
        matching = this.matchingClause(modifier);
      } else throw this.bad(modifier, `unexpected ${this.text(modifier)}`);
    }
    let left = this.expression(leftNode, depth);
    const right = this.expression(rightNode, depth);
    // The grammar reads `-2^2` as (-2)^2; PromQL's own parser binds the sign looser than `^`: -(2^2).
    let negateResult = false;
    if (operator === '^' && leftNode.name === 'NumberDurationLiteral' && /^\s*-/.test(this.text(leftNode))) {
      left = { kind: 'number', value: -(left as { value: number }).value };
      negateResult = true;
    }
    const leftType = typeOf(left);
    const rightType = typeOf(right);
    const isComparison = (comparisonOperators as readonly string[]).includes(operator);
    const isSet = (setOperators as readonly string[]).includes(operator);
    if (isSet && (leftType === 'scalar' || rightType === 'scalar')) {
      throw this.bad(node, `set operator "${operator}" not allowed in binary scalar expression`);
    }
    for (const type of [leftType, rightType]) {
      if (type !== 'scalar' && type !== 'vector') {
        throw this.bad(node, 'binary expression must contain only scalar and instant vector types');
      }
    }
    if (returnBool && !isComparison)
      throw this.bad(node, 'bool modifier can only be used on comparison operators');
    if (isComparison && !returnBool && leftType === 'scalar' && rightType === 'scalar') {
      throw this.bad(node, 'comparisons between scalars must use BOOL modifier');
    }
    if (hasMatching && (leftType !== 'vector' || rightType !== 'vector')) {
      throw this.bad(node, 'vector matching only allowed between instant vectors');
    }
    if (isSet && matching.group) throw this.bad(node, `no grouping allowed for "${operator}" operation`);
    if (matching.on) {
      const both = matching.include?.find((label) => matching.labels.includes(label));
      if (both !== undefined) {
        throw this.bad(node, `label "${both}" must not occur in ON and GROUP clause at once`);
      }
    }
    const expression: Expression = { kind: 'binary', operator, left, right, returnBool, matching };
    return negateResult ? { kind: 'unary', operator: '-', expression } : expression;
  }

  private matchingClause(node: SyntaxNode): VectorMatching {
    let on = false;
    let labels: string[] = [];
    let group: 'left' | 'right' | undefined;
    let include: string[] = [];
    for (const child of this.children(node)) {
      if (child.name === 'On') on = true;
      else if (child.name === 'Ignoring') on = false;
      else if (child.name === 'GroupLeft') group = 'left';
      else if (child.name === 'GroupRight') group = 'right';
      // The labels after on/ignoring, or after group_left/group_right (those the "one" side lends).
      else if (child.name === 'GroupingLabels') {
        if (group) include = this.groupingLabels(child);
        else labels = this.groupingLabels(child);
      } else throw this.bad(child, `unexpected ${this.text(child)}`);
    }
    return group ? { on, labels, group, include } : { on, labels };
  }

  private groupingLabels(node: SyntaxNode): string[] {
    return this.children(node).map((child) =>
      child.name === 'QuotedLabelName' ? this.string(this.onlyChild(child)) : this.text(child),
    );
  }

  private call(node: SyntaxNode, depth: number): Expression {
    const [identifier, body] = this.children(node);
    const name = identifier ? this.text(identifier) : '';
    if (!(rangeFunctions as readonly string[]).includes(name)) throw unsupported(`function "${name}"`);
    const args = body ? this.children(body) : [];
    if (args.length !== 1 || !args[0]) {
      throw this.bad(node, `expected 1 argument(s) in call to "${name}", got ${args.length}`);
    }
    const argument = this.expression(args[0], depth);
    if (argument.kind !== 'matrix') {
      throw this.bad(
        node,
        `expected type range vector in call to function "${name}", got ${typeName(typeOf(argument))}`,
      );
    }
    return { kind: 'call', function: name as RangeFunction, argument };
  }

  private aggregate(node: SyntaxNode, depth: number): Expression {
    let operator: string | undefined;
    // No modifier groups everything: `sum(x)` is `sum by () (x)`.
    let without = false;
    let labels: string[] = [];
    let args: SyntaxNode[] = [];
    for (const child of this.children(node)) {
      if (child.name === 'AggregateOp') operator = this.text(child);
      else if (child.name === 'AggregateModifier') {
        for (const part of this.children(child)) {
          if (part.name === 'By') without = false;
          else if (part.name === 'Without') without = true;
          else if (part.name === 'GroupingLabels') labels = this.groupingLabels(part);
        }
      } else if (child.name === 'FunctionCallBody') args = this.children(child);
    }
    if (!operator || !(aggregateOperators as readonly string[]).includes(operator)) {
      throw unsupported(`the aggregation "${operator ?? this.text(node).slice(0, 20)}"`);
    }
    const aggregation = operator as AggregateOperator;
    const expected = parameterisedAggregations.includes(aggregation) ? 2 : 1;
    const vectorNode = args[expected - 1];
    if (args.length !== expected || !vectorNode) {
      throw this.bad(
        node,
        `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`,
      );
    }
    const expression = this.expression(vectorNode, depth);
    if (typeOf(expression) !== 'vector') {
      throw this.bad(
        node,
        `expected type instant vector in aggregation expression, got ${typeName(typeOf(expression))}`,
      );
    }
    if (expected === 1) return { kind: 'aggregate', operator: aggregation, without, labels, expression };
    const parameter = this.expression(args[0] as SyntaxNode, depth);
    if (typeOf(parameter) !== 'scalar') {
      throw this.bad(
        node,
        `expected type scalar in aggregation parameter, got ${typeName(typeOf(parameter))}`,
      );
    }
    return { kind: 'aggregate', operator: aggregation, parameter, without, labels, expression };
  }
}

/** Prometheus's names of the value types in its messages. */
const typeName = (type: string): string =>
  type === 'vector' ? 'instant vector' : type === 'matrix' ? 'range vector' : type;

/**
 * A Prometheus duration (`1h30m`, `5m`, `500ms`, `1w`, `1y`) in milliseconds, or undefined when the text is
 * not one. Units must come largest first, each at most once, as Prometheus's model.ParseDuration wants.
 *
 * @example parseDurationText('1h30m') // 5_400_000
 */
export function parseDurationText(text: string): number | undefined {
  const match = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(
    text,
  );
  if (!match || text === '') return undefined;
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let total = 0;
  units.forEach((unit, index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * (durationUnits[unit] ?? 0);
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

const simpleEscapes: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/**
 * A PromQL string literal's value: `"..."` and `'...'` with Go's escapes, or a raw `` `...` ``; undefined
 * when an escape is bad. O(n).
 */
export function unquote(literal: string): string | undefined {
  const quote = literal[0];
  if (literal.length < 2 || literal.at(-1) !== quote) return undefined;
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  let value = '';
  for (let index = 0; index < body.length; index++) {
    const char = body[index] as string;
    if (char !== '\\') {
      value += char;
      continue;
    }
    const escaped = body[index + 1];
    if (escaped === undefined) return undefined;
    const simple = simpleEscapes[escaped];
    if (simple !== undefined) {
      value += simple;
      index += 1;
      continue;
    }
    const hexLength = escaped === 'x' ? 2 : escaped === 'u' ? 4 : escaped === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(index + 2, index + 2 + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) return undefined;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) return undefined;
      value += escaped === 'x' ? String.fromCharCode(code) : String.fromCodePoint(code);
      index += 1 + hexLength;
      continue;
    }
    const octal = body.slice(index + 1, index + 4);
    if (/^[0-7]{3}$/.test(octal)) {
      value += String.fromCharCode(Number.parseInt(octal, 8));
      index += 3;
      continue;
    }
    return undefined;
  }
  return value;
}
