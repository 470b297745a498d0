import uPlot from 'uplot';
import { type ChartColumns, linearBelow } from './chart-data.ts';
import { formatValue } from './format.ts';

/** Colours shared by the charts and the legend text. */
export const palette = {
  value: '#1f5fbf',
  band: 'rgba(46, 160, 90, 0.22)',
  bandEdge: 'rgba(46, 140, 80, 0.55)',
  expected: 'rgba(30, 110, 60, 0.9)',
  envelope: 'rgba(31, 95, 191, 0.12)',
  anomaly: '#d7263d',
  marker: '#b7791f',
  markedSpan: 'rgba(183, 121, 31, 0.14)',
  /** Would-be alerts of a replay: violet, so they never read as the real (amber) ones. */
  replayed: '#7c3aed',
} as const;

const columnsOf = (columns: ChartColumns): uPlot.AlignedData => [
  columns.time,
  columns.value,
  columns.lower,
  columns.upper,
  columns.expected,
  columns.min,
  columns.max,
  columns.anomaly,
];

const legendValue = (_u: uPlot, value: number | null) => formatValue(value);

/** A would-be alert on the chart (epoch ms). */
export interface ReplayedSpan {
  readonly from: number;
  readonly to: number;
  readonly openedAt: number;
}

export interface BandChartOptions {
  readonly width: number;
  readonly height: number;
  /** Draw the min/max envelope (when a bucket holds several series-step values). */
  readonly envelope: boolean;
  /**
   * A logarithmic value axis (uPlot's arcsinh scale): logarithmic from the smallest positive value up, linear
   * below it, so a spike a hundred times the normal level leaves the band readable and 0 and negatives are
   * still drawn (a plain log scale cannot show them).
   */
  readonly logScale?: boolean;
  /** The time range to show (epoch ms), whether or not points cover all of it, so an alert stays centred. */
  readonly range: { readonly from: number; readonly to: number };
  /** An instant (epoch ms) to mark with a vertical line: the alert the view was opened for. */
  readonly markAt?: number;
  /** Spans (epoch ms) to shade: the alert the view was opened for, from its start to its end (or now). */
  readonly markSpans?: readonly { readonly from: number; readonly to: number }[];
  /**
   * Would-be alerts of a replay (start to end, and when each opened), read at every draw: a strip along the
   * top of the plot and a dotted line where each opened. The view redraws the chart when they change.
   */
  readonly replayed?: () => readonly ReplayedSpan[];
  /** Called with the range (epoch ms) the user dragged across. */
  readonly onZoom: (from: number, to: number) => void;
  /** Charts given the same key move their cursors together (an incident's members, stacked on one axis). */
  readonly syncKey?: string;
}

/**
 * The series view's chart: the value line, the band of normalcy shaded between its lower and upper edges
 * with the expected value dashed, the min/max envelope when downsampled, and red marks on anomalies.
 */
export function bandChart(target: HTMLElement, columns: ChartColumns, options: BandChartOptions): uPlot {
  const markAt = options.markAt;
  const chartOptions: uPlot.Options = {
    width: options.width,
    height: options.height,
    cursor: {
      drag: { x: true, y: false, setScale: false },
      ...(options.syncKey !== undefined && { sync: { key: options.syncKey } }),
    },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: true, range: () => [options.range.from / 1000, options.range.to / 1000] },
      y: options.logScale ? { distr: 4, asinh: linearBelow(columns) } : {},
    },
    series: [
      {},
      { label: 'value', stroke: palette.value, width: 1.5, value: legendValue },
      { label: 'lower', stroke: palette.bandEdge, width: 1, value: legendValue },
      { label: 'upper', stroke: palette.bandEdge, width: 1, value: legendValue },
      { label: 'expected', stroke: palette.expected, width: 1, dash: [5, 4], value: legendValue },
      { label: 'min', stroke: 'transparent', show: options.envelope, value: legendValue },
      { label: 'max', stroke: 'transparent', show: options.envelope, value: legendValue },
      {
        label: 'anomaly',
        stroke: palette.anomaly,
        fill: palette.anomaly,
        paths: () => null,
        points: { show: true, size: 8, width: 1, stroke: '#ffffff', fill: palette.anomaly },
        value: legendValue,
      },
    ],
    bands: [
      { series: [3, 2], fill: palette.band },
      ...(options.envelope ? [{ series: [6, 5] as [number, number], fill: palette.envelope }] : []),
    ],
    // A log scale's minor ticks come as null: they stay unlabelled.
    axes: [
      {},
      { values: (_u, ticks) => ticks.map((tick) => (tick === null ? '' : formatValue(tick))), size: 60 },
    ],
    hooks: {
      setSelect: [
        (chart) => {
          const { left, width } = chart.select;
          if (width < 5) return;
          const from = Math.round(chart.posToVal(left, 'x') * 1000);
          const to = Math.round(chart.posToVal(left + width, 'x') * 1000);
          chart.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          options.onZoom(from, to);
        },
      ],
      draw: [
        (chart) => {
          drawMarks(chart, markAt, options.markSpans ?? []);
          drawReplayed(chart, options.replayed?.() ?? []);
        },
      ],
    },
  };
  return new uPlot(chartOptions, columnsOf(columns), target);
}

/** Shades the marked spans and draws a dashed line at the marked instant, inside the plot area. */
function drawMarks(
  chart: uPlot,
  markAt: number | undefined,
  spans: readonly { readonly from: number; readonly to: number }[],
): void {
  const { left, top, width, height } = chart.bbox;
  const context = chart.ctx;
  context.save();
  context.beginPath();
  context.rect(left, top, width, height);
  context.clip();
  context.fillStyle = palette.markedSpan;
  for (const span of spans) {
    const start = chart.valToPos(span.from / 1000, 'x', true);
    const end = chart.valToPos(span.to / 1000, 'x', true);
    context.fillRect(start, top, Math.max(end - start, 2 * devicePixelRatio), height);
  }
  if (markAt !== undefined) {
    const x = chart.valToPos(markAt / 1000, 'x', true);
    context.strokeStyle = palette.marker;
    context.lineWidth = 2 * devicePixelRatio;
    context.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    context.beginPath();
    context.moveTo(x, top);
    context.lineTo(x, top + height);
    context.stroke();
  }
  context.restore();
}

/** Would-be alerts: a violet strip along the top of the plot over each, and a dotted line where each opened. */
function drawReplayed(chart: uPlot, spans: readonly ReplayedSpan[]): void {
  if (spans.length === 0) return;
  const { left, top, width, height } = chart.bbox;
  const context = chart.ctx;
  const strip = 6 * devicePixelRatio;
  context.save();
  context.beginPath();
  context.rect(left, top, width, height);
  context.clip();
  context.fillStyle = palette.replayed;
  context.strokeStyle = palette.replayed;
  context.lineWidth = 1.5 * devicePixelRatio;
  context.setLineDash([2 * devicePixelRatio, 3 * devicePixelRatio]);
  for (const span of spans) {
    const start = chart.valToPos(span.from / 1000, 'x', true);
    const end = chart.valToPos(span.to / 1000, 'x', true);
    context.fillRect(start, top, Math.max(end - start, 3 * devicePixelRatio), strip);
    const opened = chart.valToPos(span.openedAt / 1000, 'x', true);
    context.beginPath();
    context.moveTo(opened, top + strip);
    context.lineTo(opened, top + height);
    context.stroke();
  }
  context.restore();
}

/** The series list's sparkline: the value and its band, anomalies marked, no axes. */
export function sparkline(target: HTMLElement, columns: ChartColumns, width: number, height: number): uPlot {
  const chartOptions: uPlot.Options = {
    width,
    height,
    cursor: { show: false },
    legend: { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: { x: { time: false } },
    axes: [{ show: false }, { show: false }],
    series: [
      {},
      { stroke: palette.value, width: 1 },
      { stroke: 'transparent' },
      { stroke: 'transparent' },
      { show: false },
      { show: false },
      { show: false },
      {
        stroke: palette.anomaly,
        paths: () => null,
        points: { show: true, size: 4, width: 0, fill: palette.anomaly },
      },
    ],
    bands: [{ series: [3, 2], fill: palette.band }],
  };
  return new uPlot(chartOptions, columnsOf(columns), target);
}

/**
 * Keeps a chart as wide as its box: a phone turned, a window resized or a narrow layout taking over redraws
 * it at the new width rather than leaving it wider than the page. Stops once the box leaves the page, or
 * when the returned function is called (the chart is drawn anew).
 */
export function fitToWidth(chart: uPlot, box: HTMLElement, height: (width: number) => number): () => void {
  let width = chart.width;
  const observer = new ResizeObserver(() => {
    if (!box.isConnected) {
      observer.disconnect();
      return;
    }
    const next = Math.floor(box.clientWidth);
    if (next > 0 && next !== width) {
      width = next;
      chart.setSize({ width, height: height(width) });
    }
  });
  observer.observe(box);
  return () => observer.disconnect();
}
