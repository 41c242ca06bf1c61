import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../usage-error.js';
import { parseRunArguments } from './run-arguments.js';

const parse = (...argv: string[]) => parseRunArguments(['--bios', 'none', '--kernel', 'k.elf', ...argv])!;

test('--net host is the VM\'s own switch; --net switch:PATH a shared one', () => {
  assert.deepEqual([parse().net, parse().netSwitch], [false, undefined]);
  assert.deepEqual([parse('--net', 'host').net, parse('--net', 'host').netSwitch], [true, undefined]);
  assert.deepEqual([parse('--net', 'switch:/run/sw.sock').net, parse('--net', 'switch:/run/sw.sock').netSwitch], [true, '/run/sw.sock']);
  for (const bad of ['switch:', 'user', 'switch']) {
    assert.throws(() => parse('--net', bad), (e: unknown) => e instanceof UsageError && /switch:PATH/.test(e.message), bad);
  }
});

test('--cpu-cap takes a percent of one core from 5 to 100', () => {
  assert.equal(parse().cpuCap, undefined);
  assert.equal(parse('--cpu-cap', '30').cpuCap, 30);
  assert.equal(parse('--cpu-cap', '12.5').cpuCap, 12.5);
  for (const bad of ['4', '101', '0', '30%', 'half', '']) {
    assert.throws(() => parse('--cpu-cap', bad), (e: unknown) => e instanceof UsageError && /5 to 100/.test(e.message), bad);
  }
});
