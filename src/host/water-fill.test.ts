import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillWithSpare, waterFill } from './water-fill.js';

const near = (actual: number[], expected: number[]) => actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-6, `${actual} vs ${expected}`));

test('unbounded claimants divide by weight', () => {
  near(waterFill(100, [{ weight: 2, bound: Infinity }, { weight: 1, bound: Infinity }]), [200 / 3, 100 / 3]);
});

test('a claimant bounded below its share gives the rest to the others by weight', () => {
  near(waterFill(100, [{ weight: 1, bound: 10 }, { weight: 3, bound: Infinity }, { weight: 1, bound: Infinity }]), [10, 67.5, 22.5]);
  // Bounds found in a later pass: after the first is fixed, the second's bound falls below the new level.
  near(waterFill(90, [{ weight: 1, bound: 5 }, { weight: 1, bound: 30 }, { weight: 1, bound: Infinity }]), [5, 30, 55]);
});

test('everyone at their bound leaves capacity unused; zero bounds take nothing', () => {
  near(waterFill(100, [{ weight: 1, bound: 20 }, { weight: 5, bound: 0 }, { weight: 1, bound: 30 }]), [20, 0, 30]);
  near(waterFill(0, [{ weight: 1, bound: 20 }]), [0]);
});

test('spare capacity is shared up to each limit after the wants are met', () => {
  // A wants 10, B wants everything: B gets the rest up to its limit 60, A then its limit.
  near(fillWithSpare(100, [{ weight: 1, want: 10, limit: 50 }, { weight: 1, want: Infinity, limit: 60 }]), [40, 60]);
  // Under contention nothing is spare: the wants decide.
  near(fillWithSpare(100, [{ weight: 1, want: 10, limit: 100 }, { weight: 1, want: Infinity, limit: 100 }, { weight: 2, want: Infinity, limit: 100 }]), [10, 30, 60]);
});
