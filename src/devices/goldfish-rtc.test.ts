import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoldfishRtc, GoldfishRtcRegister as R } from './goldfish-rtc.js';
import type { GoldfishRtcState } from './goldfish-rtc.js';

const SECOND = 1_000_000_000n;
/** 2024-01-01T00:00:00Z. */
const START = 1_704_067_200n * SECOND;

function makeRtc(start = START) {
  let host = start;
  const irq: boolean[] = [];
  const rtc = new GoldfishRtc({ clock: { nowNs: () => host }, irq: { set: (l) => irq.push(l) } });
  const advance = (ns: bigint) => {
    host += ns;
  };
  const level = () => irq.at(-1) ?? false;
  /** The driver's read: TIME_LOW first (latching the high word), then TIME_HIGH. */
  const readTime = () => {
    const lo = BigInt(rtc.read(R.TIME_LOW, 4));
    return (BigInt(rtc.read(R.TIME_HIGH, 4)) << 32n) | lo;
  };
  /** The driver's set_time and set_alarm: high word first, then low. */
  const setTime = (ns: bigint) => {
    rtc.write(R.TIME_HIGH, 4, Number(ns >> 32n));
    rtc.write(R.TIME_LOW, 4, Number(ns & 0xffffffffn));
  };
  const setAlarm = (ns: bigint) => {
    rtc.write(R.ALARM_HIGH, 4, Number(ns >> 32n));
    rtc.write(R.ALARM_LOW, 4, Number(ns & 0xffffffffn));
  };
  return { rtc, irq, advance, level, readTime, setTime, setAlarm };
}

test('reads the host wall clock in nanoseconds since the epoch', () => {
  const { rtc, advance, readTime } = makeRtc();
  assert.equal(readTime(), START);
  advance(1234n);
  assert.equal(readTime(), START + 1234n);
  assert.equal(rtc.nowNs(), START + 1234n);
  assert.equal(GoldfishRtc.WINDOW_SIZE, 0x1000);
});

test('TIME_HIGH returns the high word latched by the last TIME_LOW read', () => {
  // Just below a carry into the high word.
  const { rtc, advance } = makeRtc(0x1_ffff_fff0n);
  assert.equal(rtc.read(R.TIME_LOW, 4), 0xffff_fff0);
  advance(0x20n);
  assert.equal(rtc.read(R.TIME_HIGH, 4), 1, 'still the high word of the time read before the carry');
  assert.equal(rtc.read(R.TIME_LOW, 4), 0x10);
  assert.equal(rtc.read(R.TIME_HIGH, 4), 2);
});

test('setting the time keeps it as an offset: the clock goes on running from the new value', () => {
  const { advance, readTime, setTime } = makeRtc();
  const target = 946_684_800n * SECOND + 123n; // 2000-01-01, not a multiple of 2^32
  setTime(target);
  assert.equal(readTime(), target);
  advance(5n * SECOND);
  assert.equal(readTime(), target + 5n * SECOND);
});

test('a TIME_LOW write completes the high word written just before it, even across a carry', () => {
  const { rtc, advance, readTime } = makeRtc();
  const target = (7n << 32n) | 0xffff_ff00n;
  rtc.write(R.TIME_HIGH, 4, 7);
  advance(0x1_0000_0000n); // a whole high-word step passes between the two writes
  rtc.write(R.TIME_LOW, 4, 0xffff_ff00);
  assert.equal(readTime(), target);
  // A lone TIME_LOW write keeps the current high word.
  advance(0x200n);
  rtc.write(R.TIME_LOW, 4, 5);
  assert.equal(readTime(), (8n << 32n) | 5n);
});

test('an alarm fires on update() once the time reaches it, and only when IRQ_ENABLED lets it out', () => {
  const { rtc, advance, level, setAlarm } = makeRtc();
  setAlarm(START + 10n * SECOND);
  rtc.write(R.IRQ_ENABLED, 4, 1);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 1);
  assert.equal(rtc.read(R.IRQ_ENABLED, 4), 1);
  assert.equal(rtc.nsUntilAlarm(), 10e9);
  advance(10n * SECOND - 1n);
  rtc.update();
  assert.equal(level(), false);
  assert.equal(rtc.nsUntilAlarm(), 1);
  advance(1n);
  assert.equal(rtc.nsUntilAlarm(), 0);
  rtc.update();
  assert.equal(level(), true);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 0, 'one-shot: disarmed as it fires');
  assert.equal(rtc.nsUntilAlarm(), Infinity);
  rtc.write(R.CLEAR_INTERRUPT, 4, 1);
  assert.equal(level(), false);
  advance(SECOND);
  rtc.update();
  assert.equal(level(), false, 'a fired alarm does not fire again');
});

test('an alarm that fires while the interrupt is disabled raises it once enabled', () => {
  const { rtc, advance, level, setAlarm } = makeRtc();
  setAlarm(START + 100n);
  advance(100n);
  rtc.update();
  assert.equal(level(), false);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 0);
  rtc.write(R.IRQ_ENABLED, 4, 1);
  assert.equal(level(), true);
  rtc.write(R.IRQ_ENABLED, 4, 0);
  assert.equal(level(), false);
});

test('an alarm set in the past fires at once; ALARM_HIGH alone does not arm', () => {
  const { rtc, level, setAlarm } = makeRtc();
  rtc.write(R.IRQ_ENABLED, 4, 1);
  rtc.write(R.ALARM_HIGH, 4, 0);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 0);
  setAlarm(START - SECOND);
  assert.equal(level(), true);
  assert.equal(rtc.read(R.ALARM_LOW, 4), Number((START - SECOND) & 0xffffffffn));
  assert.equal(rtc.read(R.ALARM_HIGH, 4), Number((START - SECOND) >> 32n));
});

test('CLEAR_ALARM disarms a pending alarm; setting the time past an armed alarm fires it', () => {
  const { rtc, advance, level, setAlarm, setTime } = makeRtc();
  rtc.write(R.IRQ_ENABLED, 4, 1);
  setAlarm(START + SECOND);
  rtc.write(R.CLEAR_ALARM, 4, 1);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 0);
  advance(2n * SECOND);
  rtc.update();
  assert.equal(level(), false);
  setAlarm(START + 60n * SECOND);
  setTime(START + 61n * SECOND);
  assert.equal(level(), true);
});

test('bad accesses are ignored: narrow, misaligned, unimplemented and read-only registers', () => {
  const { rtc, irq, readTime } = makeRtc();
  assert.equal(rtc.read(R.TIME_LOW, 2), 0);
  assert.equal(rtc.read(R.TIME_LOW + 1, 4), 0);
  assert.equal(rtc.read(0x20, 4), 0);
  assert.equal(rtc.read(R.CLEAR_INTERRUPT, 4), 0);
  rtc.write(R.TIME_LOW, 1, 0);
  rtc.write(R.TIME_HIGH + 2, 4, 0);
  rtc.write(R.ALARM_STATUS, 4, 1);
  rtc.write(R.ALARM_LOW, 2, 0);
  rtc.write(0x800, 4, 0xffffffff);
  assert.equal(readTime(), START);
  assert.equal(rtc.read(R.ALARM_STATUS, 4), 0);
  assert.deepEqual(irq, [false]);
});

test('save/restore keeps the offset from the wall clock, the alarm and the interrupt state', () => {
  const a = makeRtc();
  a.setTime(START + 3600n * SECOND);
  a.setAlarm(START + 3700n * SECOND);
  a.rtc.write(R.IRQ_ENABLED, 4, 1);
  const state = JSON.parse(JSON.stringify(a.rtc.save())) as GoldfishRtcState;

  // Restored ten seconds of host time later: the guest clock has run on, as a battery-backed RTC would.
  const b = makeRtc(START + 10n * SECOND);
  b.rtc.restore(state);
  assert.equal(b.readTime(), START + 3610n * SECOND);
  assert.equal(b.rtc.read(R.ALARM_STATUS, 4), 1);
  assert.equal(b.rtc.nsUntilAlarm(), 90e9);
  assert.equal(b.level(), false);
  b.advance(90n * SECOND);
  b.rtc.update();
  assert.equal(b.level(), true);
  const after = b.rtc.save();
  assert.equal(after.offsetNs, state.offsetNs);
  assert.equal(after.alarmNs, state.alarmNs);
  assert.deepEqual([after.alarmArmed, after.irqPending, after.irqEnabled], [false, true, true]);

  // An alarm that came due while the snapshot was on disk fires on restore.
  const c = makeRtc(START + 200n * SECOND);
  c.rtc.restore(state);
  assert.equal(c.level(), true);

  assert.throws(() => c.rtc.restore({ ...state, version: 2 as 1 }), /version 2/);
  assert.throws(() => c.rtc.restore({ ...state, alarmNs: 'soon' }), /not an integer/);
});
