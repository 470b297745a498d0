import { hourMs, minuteMs } from '../time.ts';
import { type Figures, type SeriesScore, summarize } from './score.ts';

/**
 * The backtest's printed tables: per series, per family and in total, the figures the scenarios' README
 * asks for. Pure: returns text.
 */

/** Column headings shared by every table of figures. */
const figureHeadings = [
  'incidents',
  'caught',
  'false alerts',
  'series-weeks',
  'false/series-week',
  'median latency',
  'normal events paged',
] as const;

/**
 * A row's figure columns: "caught/incidents (share)", false alerts, series-weeks, false alerts per
 * series-week, median latency "minutes min (buckets buckets)", normal events "paged/counted".
 *
 * @example figureColumns(summarize([]))[1] // '0/0'
 */
export function figureColumns(figures: Figures): string[] {
  const { caught, incidents } = figures;
  const share = incidents > 0 ? ` (${Math.round((100 * caught) / incidents)}%)` : '';
  return [
    String(incidents),
    `${caught}/${incidents}${share}`,
    String(figures.falseAlerts),
    formatNumber(figures.seriesWeeks, 1),
    figures.falseAlertsPerSeriesWeek === null ? '-' : formatNumber(figures.falseAlertsPerSeriesWeek, 3),
    figures.medianLatencyMinutes === null || figures.medianLatencyBuckets === null
      ? '-'
      : `${formatNumber(figures.medianLatencyMinutes, 1)} min (${formatNumber(figures.medianLatencyBuckets, 1)} buckets)`,
    `${figures.normalEventsPaged}/${figures.normalEvents}`,
  ];
}

/** One line per series: its name, family and step, then its figures. */
export function seriesTable(scores: readonly SeriesScore[]): string {
  return table(
    ['series', 'family', 'step', ...figureHeadings],
    scores.map((score) => [
      score.name,
      score.family,
      formatStep(score.stepMs),
      ...figureColumns(summarize([score])),
    ]),
  );
}

/** One line per family, then the total. */
export function familyTable(families: Readonly<Record<string, Figures>>, total: Figures): string {
  return table(
    ['family', 'series', ...figureHeadings],
    [
      ...Object.entries(families).map(([family, figures]) => [
        family,
        String(figures.series),
        ...figureColumns(figures),
      ]),
      ['total', String(total.series), ...figureColumns(total)],
    ],
  );
}

/** One line per corpus (a seed, or a data folder) with its total, then the total over all of them. */
export function corpusTable(
  corpora: readonly { readonly label: string; readonly total: Figures; readonly seconds: number }[],
  total: Figures,
): string {
  const seconds = corpora.reduce((sum, corpus) => sum + corpus.seconds, 0);
  return table(
    ['corpus', 'series', ...figureHeadings, 'wall time'],
    [
      ...corpora.map((corpus) => [
        corpus.label,
        String(corpus.total.series),
        ...figureColumns(corpus.total),
        `${formatNumber(corpus.seconds, 1)} s`,
      ]),
      ['all', String(total.series), ...figureColumns(total), `${formatNumber(seconds, 1)} s`],
    ],
  );
}

/**
 * Text columns padded to their widest cell: the first left-aligned, the others right-aligned. O(cells).
 *
 * @example table(['a', 'b'], [['x', '10']]) // 'a   b\nx  10'
 */
export function table(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headings.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) =>
        column === 0 ? (cells[column] ?? '').padEnd(width) : (cells[column] ?? '').padStart(width),
      )
      .join('  ')
      .trimEnd();
  return [line(headings), ...rows.map(line)].join('\n');
}

/** A step as people write it: 1m, 5m, 1h, 30s. */
export function formatStep(stepMs: number): string {
  if (stepMs % hourMs === 0) return `${stepMs / hourMs}h`;
  if (stepMs % minuteMs === 0) return `${stepMs / minuteMs}m`;
  return `${stepMs / 1000}s`;
}

/** A number with at most `digits` decimals, without trailing zeros. */
function formatNumber(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}
