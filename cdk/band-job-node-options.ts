/**
 * V8's heap sizes for the band function, in its NODE_OPTIONS; `npm run bench:bands` runs the job with the
 * same flags, so the memory it measures is the function's (see BENCHMARKS.md, "Band job at scale").
 *
 * Without them the Lambda runtime derives both from the function's memory (a young generation of a tenth of
 * it, over 200 MB at 2,048 MB; it keeps out of the way when NODE_OPTIONS names either), and V8 lets the heap
 * grow further between full collections the larger its limit: a warm run started with most of the last run's
 * garbage still in the heap. With a 1,024 MB old space V8 collects sooner (a full collection leaves 100 to
 * 130 MB at 100,000 series in 64 shards). 16 MB semi-spaces are V8's default in the Node.js 20 the benchmark
 * runs on; named, the function has them whatever its runtime's default.
 */
export const bandJobHeapFlags = ['--max-old-space-size=1024', '--max-semi-space-size=16'] as const;
