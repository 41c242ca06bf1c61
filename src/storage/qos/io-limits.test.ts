import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIoLimits } from './io-limits.js';
import { QosError } from './qos-error.js';

test('every key maps to its limit; byte values take binary K/M/G suffixes', () => {
  assert.deepEqual(
    parseIoLimits({ 'iops': '500', 'iops-rd': '300', 'iops-wr': '200', 'bps': '10M', 'bps-rd': '512k', 'bps-wr': '1G', 'iops-burst': '1000', 'bps-burst': '1.5M' }),
    { iops: 500, iopsRead: 300, iopsWrite: 200, bps: 10 * 1024 ** 2, bpsRead: 512 * 1024, bpsWrite: 1024 ** 3, iopsBurst: 1000, bpsBurst: 1.5 * 1024 ** 2 },
  );
});

test('keys of other layers are ignored; 0 is kept (it means unlimited)', () => {
  assert.deepEqual(parseIoLimits({ format: 'qcow2', iops: '0', bps: '4096' }), { iops: 0, bps: 4096 });
  assert.deepEqual(parseIoLimits({}), {});
});

test('bad values are refused with the key and what to give', () => {
  for (const [key, value] of [['iops', 'fast'], ['iops', '-5'], ['iops', '5M'], ['bps', '10X'], ['bps-wr', ''], ['iops-burst', '1e3'], ['bps', '99999999999G']]) {
    assert.throws(
      () => parseIoLimits({ [key!]: value! }),
      (e: unknown) => e instanceof QosError && e.kind === 'bad-limit' && e.key === key && e.message.includes(`${key}=${value}`),
      `${key}=${value}`,
    );
  }
});
