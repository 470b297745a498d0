import { describe, expect, it } from 'vitest';
import type { LearnedTraits } from '../../lib/bands/engine.ts';
import { seriesViewPath, seriesViewUrl } from '../../lib/dashboard-links.ts';
import { globToRegExp, seriesMatcher } from '../../lib/metrics/series-filter.ts';
import { learnedTraits, seriesKind } from '../../lib/query/learned-traits.ts';

describe('globToRegExp', () => {
  it.each([
    ['shop.*.time', 'shop.login.time', true],
    ['shop.*.time', 'shopXlogin.time', false],
    ['shop.*', 'shop.a.b.c', true],
    ['web-?', 'web-1', true],
    ['web-?', 'web-12', false],
    ['a+b(c)', 'a+b(c)', true],
    ['[x]', '[x]', true],
    ['[x]', 'x', false],
  ])('%s matches %s: %s', (glob, text, expected) => {
    expect(globToRegExp(glob).test(text)).toBe(expected);
  });
});

describe('seriesMatcher', () => {
  const series = { name: 'shop.login.time', dimensions: { host: 'web-1', region: 'eu' }, anomalous: true };
  it('passes a series that meets every filter, and only then', () => {
    expect(seriesMatcher({})(series)).toBe(true);
    expect(seriesMatcher({ prefix: 'shop.', dimensions: { host: 'web-*' }, anomalous: true })(series)).toBe(
      true,
    );
    expect(seriesMatcher({ prefix: 'db.' })(series)).toBe(false);
    expect(seriesMatcher({ dimensions: { host: 'web-2' } })(series)).toBe(false);
    expect(seriesMatcher({ dimensions: { zone: '*' } })(series)).toBe(false);
    expect(seriesMatcher({ anomalous: false })(series)).toBe(false);
  });
});

describe('learnedTraits (the engine hook)', () => {
  it('reads what an engine with describe() reports, and drops what is not a known kind or seasonality', () => {
    expect(learnedTraits({ describe: () => ({ kind: 'latency', seasonality: 'daily+weekly' }) })).toEqual({
      kind: 'latency',
      seasonality: 'daily+weekly',
    });
    // A report that breaks the contract at run time (a state restored from elsewhere, a plug-in's mistake).
    const mistaken = { kind: 'auto', seasonality: 'hourly' } as unknown as LearnedTraits;
    expect(learnedTraits({ describe: () => mistaken })).toEqual({
      kind: null,
      seasonality: null,
    });
    // An engine without describe() reports nothing.
    expect(learnedTraits({})).toBeUndefined();
  });

  it('takes a counter as a count and a timer as a latency whatever their values; a gauge as its engine says', () => {
    const ratio = { kind: 'ratio', seasonality: null } as const;
    expect(seriesKind('counter', ratio)).toBe('count');
    expect(seriesKind('timer', ratio)).toBe('latency');
    expect(seriesKind('gauge', ratio)).toBe('ratio');
    expect(seriesKind('gauge', { kind: null, seasonality: 'daily' })).toBe('gauge');
    expect(seriesKind('gauge', undefined)).toBe('gauge');
  });
});

describe('dashboard links', () => {
  it('opens the series view six hours either side of the instant, marking it', () => {
    expect(seriesViewPath('0123456789abcdef', 100_000_000)).toBe(
      '/#/series/0123456789abcdef?from=78400000&to=121600000&at=100000000',
    );
    expect(seriesViewUrl('https://api.example.com/', 'abc', 0)).toMatch(
      /^https:\/\/api\.example\.com\/#\/series\/abc\?/,
    );
  });
});
