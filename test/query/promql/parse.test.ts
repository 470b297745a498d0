import { describe, expect, it } from 'vitest';
import { PromqlBadDataError, PromqlExecutionError } from '../../../lib/query/promql/errors.ts';
import { formatValue } from '../../../lib/query/promql/format.ts';
import { parseDurationText, parseLimits, parsePromql, unquote } from '../../../lib/query/promql/parse.ts';

describe('parsePromql', () => {
  it('builds selectors with their matchers, offset and range', () => {
    expect(parsePromql('rate(http_total{job="api",code=~"5.."}[5m] offset 1h)')).toEqual({
      kind: 'call',
      function: 'rate',
      argument: {
        kind: 'matrix',
        rangeMs: 300_000,
        selector: {
          kind: 'selector',
          offsetMs: 3_600_000,
          matchers: [
            { label: '__name__', operator: '=', value: 'http_total' },
            { label: 'job', operator: '=', value: 'api' },
            { label: 'code', operator: '=~', value: '5..' },
          ],
        },
      },
    });
  });

  it('reads quoted names and label names (Prometheus 3), for Normalcy names and dimensions with dots', () => {
    expect(parsePromql('{"shop.requests", "dc.zone"="eu"}')).toEqual({
      kind: 'selector',
      offsetMs: 0,
      matchers: [
        { label: '__name__', operator: '=', value: 'shop.requests' },
        { label: 'dc.zone', operator: '=', value: 'eu' },
      ],
    });
  });

  it('reads both places of an aggregation modifier', () => {
    const before = parsePromql('sum by (a, b) (x)');
    const after = parsePromql('sum(x) by (a, b)');
    expect(after).toEqual(before);
    expect(before).toMatchObject({ kind: 'aggregate', operator: 'sum', without: false, labels: ['a', 'b'] });
    expect(parsePromql('avg without (a) (x)')).toMatchObject({ without: true, labels: ['a'] });
  });

  it.each([
    ['foo{', '1:5: parse error: unexpected end of input'],
    ['foo )', '1:5: parse error: unexpected ")"'],
    ['', 'no expression found in input'],
    ['rate(foo)', 'expected type range vector in call to function "rate", got instant vector'],
    ['sum(foo[5m])', 'expected type instant vector in aggregation expression, got range vector'],
    ['foo[5m] + 1', 'binary expression must contain only scalar and instant vector types'],
    ['1 > 2', 'comparisons between scalars must use BOOL modifier'],
    ['foo + bool 1', 'bool modifier can only be used on comparison operators'],
    ['{}', 'vector selector must contain at least one non-empty matcher'],
    ['{a=~".*"}', 'vector selector must contain at least one non-empty matcher'],
    ['foo{a=~"("}', 'invalid regular expression'],
    ['foo{a=~"(x)\\\\1"}', 'invalid regular expression'],
    ['foo{a=~"(?=x)"}', 'invalid regular expression'],
    ['(foo)[5m]', 'ranges only allowed for vector selectors'],
    ['1 offset 5m', 'offset modifier must be preceded by'],
    ['foo[0s]', 'must be greater than 0'],
    ['rate(foo[5m], foo[5m])', 'expected 1 argument(s)'],
    ['topk(foo)', 'wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['topk(foo, bar)', 'expected type scalar in aggregation parameter, got instant vector'],
    ['quantile(0.5, 1)', 'expected type instant vector in aggregation expression, got scalar'],
    ['foo and 1', 'set operator "and" not allowed in binary scalar expression'],
    ['1 or foo', 'set operator "or" not allowed in binary scalar expression'],
    ['foo and on(a) group_left bar', 'no grouping allowed for "and" operation'],
    ['foo * on(a) group_left(a) bar', 'label "a" must not occur in ON and GROUP clause at once'],
  ])('refuses %j with a 400: %s', (query, message) => {
    expect(() => parsePromql(query)).toThrow(PromqlBadDataError);
    expect(() => parsePromql(query)).toThrow(message);
  });

  it.each([
    ['count_values("v", foo)', 'the aggregation "count_values"'],
    ['histogram_quantile(0.9, foo)', 'function "histogram_quantile"'],
    ['abs(foo)', 'function "abs"'],
    ['foo atan2 bar', 'the `atan2` operator'],
    ['foo[5m:1m]', 'a subquery (`expr[range:step]`)'],
    ['foo @ 100', 'the `@` modifier'],
    ['foo[5m*2]', 'arithmetic in a range'],
  ])('refuses %j with a 422 naming %s', (query, part) => {
    expect(() => parsePromql(query)).toThrow(PromqlExecutionError);
    expect(() => parsePromql(query)).toThrow(`${part} is not supported by Normalcy's PromQL`);
  });

  it('refuses queries past its length and nesting limits', () => {
    expect(() => parsePromql('1+'.repeat(parseLimits.maxQueryLength))).toThrow(/characters long/);
    const deep = `${'('.repeat(parseLimits.maxDepth + 5)}1${')'.repeat(parseLimits.maxDepth + 5)}`;
    expect(() => parsePromql(deep)).toThrow(/nests deeper than/);
  });
});

describe('PromQL literals', () => {
  it.each([
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['1m5s', 65_000],
  ])('duration %s = %d ms', (text, ms) => {
    expect(parseDurationText(text)).toBe(ms);
  });

  it.each(['', '5', 'm', '5m1h', '-5m', '5 m'])('%j is not a duration', (text) => {
    expect(parseDurationText(text)).toBeUndefined();
  });

  it.each([
    ['"a\\"b"', 'a"b'],
    ["'it\\'s'", "it's"],
    ['`raw\\n`', 'raw\\n'],
    ['"\\n\\t\\x41\\u00e9\\101"', '\n\tAéA'],
  ])('string %s', (literal, value) => {
    expect(unquote(literal)).toBe(value);
  });

  it('writes values as Prometheus does (no exponent, Go infinities)', () => {
    expect(
      [1, 0.5, -2, 1e21, 1.5e-7, -1e-7, Number.NaN, Number.POSITIVE_INFINITY, -Infinity].map(formatValue),
    ).toEqual([
      '1',
      '0.5',
      '-2',
      '1000000000000000000000',
      '0.00000015',
      '-0.0000001',
      'NaN',
      '+Inf',
      '-Inf',
    ]);
  });
});
