import { describe, expect, it } from 'vitest';
import { dimensionProblem, hiddenCharacterIn, nameProblem } from '../../lib/ingest/validate.ts';
import { readIsoDateTime, readTimestamp } from '../../lib/metrics/timestamp.ts';

describe('readIsoDateTime', () => {
  it('reads date-times in UTC and with an offset, with or without seconds and fractions', () => {
    expect(readIsoDateTime('2025-11-25T00:00:00Z')).toBe(Date.UTC(2025, 10, 25));
    expect(readIsoDateTime('2025-11-25T01:00:00+01:00')).toBe(Date.UTC(2025, 10, 25));
    expect(readIsoDateTime('2025-11-24T19:30-04:30')).toBe(Date.UTC(2025, 10, 25));
    expect(readIsoDateTime('2025-11-25T00:00:00.123456Z')).toBe(Date.UTC(2025, 10, 25) + 123);
    expect(readIsoDateTime('2025-11-25t00:00:00.5z')).toBe(Date.UTC(2025, 10, 25) + 500);
    expect(readIsoDateTime('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(readIsoDateTime('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
  });

  it('refuses impossible dates and times instead of rolling them over', () => {
    expect(readIsoDateTime('2026-02-30T00:00:00Z')).toBe(
      'is not a real date-time (February 2026 has 28 days): the string "2026-02-30T00:00:00Z"',
    );
    expect(readIsoDateTime('2025-02-29T00:00:00Z')).toMatch(/February 2025 has 28 days/);
    expect(readIsoDateTime('1900-02-29T00:00:00Z')).toMatch(/February 1900 has 28 days/);
    expect(readIsoDateTime('2026-04-31T00:00:00Z')).toMatch(/April 2026 has 30 days/);
    expect(readIsoDateTime('2026-13-01T00:00:00Z')).toMatch(/there is no month 13/);
    expect(readIsoDateTime('2026-00-10T00:00:00Z')).toMatch(/there is no month 00/);
    expect(readIsoDateTime('2026-01-00T00:00:00Z')).toMatch(/January 2026 has 31 days/);
    expect(readIsoDateTime('2026-01-01T24:61:00Z')).toMatch(/hours go from 00 to 23/);
    expect(readIsoDateTime('2026-01-01T23:61:00Z')).toMatch(/minutes go from 00 to 59/);
    expect(readIsoDateTime('2026-01-01T23:59:60Z')).toMatch(/seconds go from 00 to 59/);
    expect(readIsoDateTime('2026-01-01T00:00:00+25:00')).toMatch(/zone offset \+25:00/);
  });

  it('refuses a date-time without a zone, which would be read in the server’s own time zone', () => {
    for (const text of ['2026-01-01T00:00:00', '2026-01-01T00:00', '2026-01-01T00:00:00.000']) {
      expect(readIsoDateTime(text)).toBe(
        `needs a time zone: Z or ±hh:mm, as in 2025-11-25T00:00:00Z, got the string "${text}"`,
      );
    }
  });

  it('says what is expected of text that is no date-time', () => {
    expect(readIsoDateTime('yesterday')).toMatch(/must be an ISO-8601 date-time such as/);
    expect(readIsoDateTime('2026-01-01')).toMatch(/must be an ISO-8601 date-time such as/);
    expect(readIsoDateTime('2026-01-01T00:00:00Zjunk')).toMatch(/is not a valid ISO-8601 date-time/);
  });

  it('is what readTimestamp uses for text', () => {
    expect(readTimestamp('2026-02-30T00:00:00Z', Number.POSITIVE_INFINITY)).toMatch(
      /February 2026 has 28 days/,
    );
    expect(readTimestamp('2026-01-01T00:00:00', Number.POSITIVE_INFINITY)).toMatch(/needs a time zone/);
  });
});

describe('hidden characters in names and dimensions', () => {
  const hidden = {
    'U+202E': '\u202E', // right-to-left override
    'U+2066': '\u2066', // left-to-right isolate
    'U+200B': '\u200B', // zero-width space
    'U+200D': '\u200D', // zero-width joiner
    'U+FEFF': '\uFEFF', // byte-order mark
    'U+00AD': '\u00AD', // soft hyphen
    'U+2028': '\u2028', // line separator
    'U+0007': '\u0007', // bell (C0)
    'U+007F': '\u007F', // delete
    'U+0085': '\u0085', // next line (C1)
    'U+E0041': '\u{E0041}', // tag latin capital A
    'U+D800': '\uD800', // a lone surrogate
  };

  it.each(Object.entries(hidden))('refuses %s, naming it', (name, character) => {
    expect(hiddenCharacterIn(`shop.${character}login`)).toBe(Number.parseInt(name.slice(2), 16));
    expect(nameProblem(`shop.${character}login`)).toMatch(
      new RegExp(`^must not contain ${name.replace('+', '\\+')}, `),
    );
    expect(dimensionProblem('host', `web-1${character}`)).toMatch(`must not contain ${name}`);
    expect(dimensionProblem(`ho${character}st`, 'web-1')).toMatch(
      `the dimension name must not contain ${name}`,
    );
  });

  it('takes visible text of any script, emoji included', () => {
    for (const text of ['shop.login', 'zürich', '東京.レイテンシ', 'שלום', 'cpu 🔥', 'a-b_c:d/e']) {
      expect(hiddenCharacterIn(text)).toBeUndefined();
      expect(nameProblem(text)).toBeUndefined();
      expect(dimensionProblem('city', text)).toBeUndefined();
    }
  });
});
