import type { Page } from 'playwright-core';

/** One pixel of a canvas: red, green, blue and alpha, 0 to 255 each. */
export type Rgba = readonly [red: number, green: number, blue: number, alpha: number];

/** The pixels of a canvas read out of the page, to be scanned for a colour in the test's own process. */
export interface CanvasPixels {
  readonly width: number;
  readonly height: number;
  /** How many pixels match. */
  count(matches: (pixel: Rgba) => boolean): number;
  /** The columns holding a matching pixel, as fractions of the canvas' width, ascending. */
  columns(matches: (pixel: Rgba) => boolean): number[];
  /**
   * The rows holding a matching pixel, as fractions of the canvas' height, ascending; only in the columns
   * between `within`'s fractions of the width when given.
   */
  rows(matches: (pixel: Rgba) => boolean, within?: readonly [from: number, to: number]): number[];
}

/**
 * Reads the first canvas under `selector` (uPlot draws the chart on one), or undefined when there is none.
 * The pixels cross over as base64, so the colour tests are plain functions here rather than code sent to
 * the page.
 */
export async function readCanvas(page: Page, selector: string): Promise<CanvasPixels | undefined> {
  const read = await page.evaluate((target) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`${target} canvas`);
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return undefined;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let binary = '';
    for (let offset = 0; offset < data.length; offset += 0x8000) {
      binary += String.fromCharCode(...data.subarray(offset, offset + 0x8000));
    }
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  }, selector);
  if (!read) return undefined;
  const data = Buffer.from(read.base64, 'base64');
  const { width, height } = read;
  const scan = (matches: (pixel: Rgba) => boolean, visit: (index: number) => void) => {
    for (let i = 0; i < data.length; i += 4) {
      const pixel: Rgba = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0];
      if (matches(pixel)) visit(i / 4);
    }
  };
  const distinct = (
    matches: (pixel: Rgba) => boolean,
    position: (index: number) => number,
    counts: (index: number) => boolean = () => true,
  ) => {
    const found = new Set<number>();
    scan(matches, (index) => {
      if (counts(index)) found.add(position(index));
    });
    return [...found].sort((a, b) => a - b);
  };
  return {
    width,
    height,
    count(matches) {
      let total = 0;
      scan(matches, () => {
        total += 1;
      });
      return total;
    },
    columns: (matches) => distinct(matches, (index) => (index % width) / width),
    rows: (matches, [from, to] = [0, 1]) =>
      distinct(
        matches,
        (index) => Math.floor(index / width) / height,
        (index) => (index % width) / width >= from && (index % width) / width <= to,
      ),
  };
}

/** The colours the tests look for on the series view's chart (see dashboard/src/charts.ts' palette). */
export const chartColours = {
  /** The band, rgba(46, 160, 90, 0.22): a translucent green, darker in red than in green. */
  band: ([r, g, b, a]: Rgba) => a > 20 && a < 140 && g > r + 40 && g > b + 20,
  /** The value line (#1f5fbf): a strong blue, little red. */
  value: ([r, g, b, a]: Rgba) => a > 200 && r < 70 && b > 150 && b > g + 60,
  /** The marked alert's amber (#b7791f) and its shade: red well above green, green above blue. */
  marker: ([r, g, b, a]: Rgba) => a > 20 && r > g + 30 && g > b + 40,
  /** A replay's violet (#7c3aed): blue well above red, red well above green (the value's blue is not). */
  replayed: ([r, g, b, a]: Rgba) => a > 200 && b > r + 60 && r > g + 40,
} as const;
