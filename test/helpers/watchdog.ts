/**
 * A watchdog for every test file (vitest's setupFiles): vitest times tests out on the event loop, so code that
 * never returns (a decoder looping on a fuzzed body, a spawnSync on a process that never ends) would hold its
 * test process, and CI, forever. A worker thread watches a heartbeat the file's event loop beats every second;
 * when it stops for NORMALCY_TEST_WATCHDOG_MS (120 s by default, twice the test timeout), the worker prints the
 * test that was running and ends the process, which vitest reports as that file's failure.
 */
import { Worker } from 'node:worker_threads';
import { beforeEach } from 'vitest';

const limitMs = Number(process.env.NORMALCY_TEST_WATCHDOG_MS ?? 120_000);
const beat = new Int32Array(new SharedArrayBuffer(4));
const name = new Uint8Array(new SharedArrayBuffer(1024));
const started = Date.now();
const tick = () => Atomics.store(beat, 0, Math.floor((Date.now() - started) / 1000));

const watcher = new Worker(
  `
  const { workerData } = require('node:worker_threads');
  const { writeSync } = require('node:fs');
  const { beat, name, limitMs, started } = workerData;
  setInterval(() => {
    const silentMs = Date.now() - started - Atomics.load(beat, 0) * 1000;
    if (silentMs < limitMs) return;
    const test = Buffer.from(name).toString('utf8').replace(/\\0+$/, '');
    writeSync(2, '\\nvitest watchdog: the event loop has not turned for ' + Math.round(silentMs / 1000) +
      ' s in "' + test + '"; ending the test process\\n');
    process.kill(process.pid, 'SIGKILL');
  }, 1000);
  `,
  { eval: true, workerData: { beat, name, limitMs, started } },
);
watcher.unref();
setInterval(tick, 1000).unref();

beforeEach((context) => {
  tick();
  const text = Buffer.from(`${context.task.file.name} > ${context.task.name}`.slice(0, 1000));
  name.fill(0);
  name.set(text);
});
