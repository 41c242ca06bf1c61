import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCpuMeter } from './process-cpu-meter.js';
import { cpuSecondsOfStat } from './process-info.js';

test('the use is the CPU seconds gained over the time between readings, over about a second', async () => {
  let ms = 0;
  let seconds = 10;
  const meter = new ProcessCpuMeter(async () => seconds, () => ms);
  assert.equal(await meter.usedPercent('vm', 1), null, 'nothing to compare the first reading with');
  ms = 500; seconds += 0.25;
  assert.equal(await meter.usedPercent('vm', 1), 50);
  ms = 1000; seconds += 0.5;
  assert.equal(await meter.usedPercent('vm', 1), 75, '0.75 s over the whole second');
  ms = 1500; seconds += 0.5;
  assert.equal(await meter.usedPercent('vm', 1), 100, 'the oldest reading past the window is dropped');
});

test('a process /proc cannot read gives null and starts over', async () => {
  let value: number | null = 1;
  let ms = 0;
  const meter = new ProcessCpuMeter(async () => value, () => ms);
  await meter.usedPercent('vm', 1);
  value = null; ms = 500;
  assert.equal(await meter.usedPercent('vm', 1), null);
  value = 2; ms = 1000;
  assert.equal(await meter.usedPercent('vm', 1), null, 'no reading from before the gap is used');
});

test('this process: /proc/self/stat parses, and a busy loop shows as use', async () => {
  const meter = new ProcessCpuMeter();
  await meter.usedPercent('self', process.pid);
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < 200_000) { /* busy until 0.2 s of CPU are spent */ }
  const used = await meter.usedPercent('self', process.pid);
  assert.ok(used !== null && used > 0, `used ${used}%`);
  assert.equal(cpuSecondsOfStat('1 (a b) S 0 0 0 0 0 0 0 0 0 0 150 50 0 0'), 2);
});
