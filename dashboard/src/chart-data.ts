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
