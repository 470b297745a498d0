import type { PointsResponse } from './api.ts';

/**
 * A points response as uPlot's column arrays (x in seconds): the value, the band (lower, upper, expected),
 * the min/max envelope, and the anomalous values alone (null elsewhere) for the marks. A missing bucket
 * becomes a row of nulls, so lines and bands break at gaps instead of bridging them. O(n).
 */
export interface ChartColumns {
  readonly time: number[];
  readonly value: (number | null)[];
  readonly lower: (number | null)[];
  readonly upper: (number | null)[];
  readonly expected: (number | null)[];
  readonly min: (number | null)[];
  readonly max: (number | null)[];
  readonly anomaly: (number | null)[];
}

export function chartColumns(response: Pick<PointsResponse, 'points' | 'stepMs'>): ChartColumns {
  const columns: ChartColumns = {
    time: [],
    value: [],
    lower: [],
    upper: [],
    expected: [],
    min: [],
    max: [],
    anomaly: [],
  };
  let previous: number | undefined;
  for (const point of response.points) {
    if (previous !== undefined && point.timestamp - previous > response.stepMs) {
      pushRow(columns, (previous + response.stepMs) / 1000, null);
    }
    pushRow(columns, point.timestamp / 1000, point);
    previous = point.timestamp;
  }
  return columns;
}

function pushRow(columns: ChartColumns, time: number, point: PointsResponse['points'][number] | null): void {
  columns.time.push(time);
  columns.value.push(point?.value ?? null);
  columns.lower.push(point?.lower ?? null);
  columns.upper.push(point?.upper ?? null);
  columns.expected.push(point?.expected ?? null);
  columns.min.push(point?.min ?? null);
  columns.max.push(point?.max ?? null);
  columns.anomaly.push(point?.anomaly ? point.value : null);
}

/**
 * Where a log scale of these columns turns linear: the power of ten at or below the smallest positive value
 * (of the value, its band and its envelope), so every positive value is on the logarithmic part, 0 and
 * negatives on the linear stretch below it, and the axis' ticks fall on round numbers. 1 when there is no
 * positive value. O(n).
 *
 * @example linearBelow({ ...columns, value: [0, 130, 5000], lower: [null, 110, 120] }) // 100
 */
export function linearBelow(columns: ChartColumns): number {
  let smallest = Number.POSITIVE_INFINITY;
  for (const column of [columns.value, columns.lower, columns.upper, columns.min, columns.max]) {
    for (const value of column) if (value !== null && value > 0 && value < smallest) smallest = value;
  }
  return Number.isFinite(smallest) ? 10 ** Math.floor(Math.log10(smallest)) : 1;
}

/** Whether any value, band edge or envelope is 0 or below (a log scale then draws it on its linear stretch). */
export const hasNonPositive = (columns: ChartColumns): boolean =>
  [columns.value, columns.lower, columns.upper, columns.min, columns.max].some((column) =>
    column.some((value) => value !== null && value <= 0),
  );
