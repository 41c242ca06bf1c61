// A hostile guest attacks every MMIO device and every virtqueue of the board with seeded garbage
// (tests/hostile/device-attack/). The host must survive it: a clean exit, no exception, bounded
// memory, the read-only disk untouched and the scratch disk no larger. Three fixed seeds, plus
// one that changes per run; VIREO_HOSTILE_SEEDS=1,2,... replays chosen ones. Long campaigns:
// scripts/fuzz-hostile.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHostileGuest, createMarkedDisk, hostProblems, replayCommand, runHostileGuest, sha256 } from './run-hostile-guest.js';

const ROUNDS = 1000;
/** The host's peak resident memory with 64 MiB of guest RAM; a run needs 130-160 MiB. */
const PEAK_RSS_LIMIT_KIB = 300 * 1024;

function seeds(): number[] {
  const chosen = process.env.VIREO_HOSTILE_SEEDS;
  if (chosen) return chosen.split(',').map((s) => Number(s.trim()));
  return [1, 2, 3, 1000 + (Math.floor(Date.now() / 1000) % 1_000_000)];
}

for (const seed of seeds()) {
  test(`the host survives the hostile guest, seed ${seed}`, { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-hostile-'));
    try {
      const disk = join(dir, 'disk.img');
      const scratchDisk = join(dir, 'scratch.img');
      const before = createMarkedDisk(disk, 4096);
      createMarkedDisk(scratchDisk, 2048);
      const r = await runHostileGuest({ elf: buildHostileGuest(), disk, scratchDisk, seed, rounds: ROUNDS, timeoutSeconds: 90 });
      const context = `seed ${seed}; replay: ${replayCommand(r)}\nlast report: ${JSON.stringify(r.report)}\nstderr tail:\n${r.stderr.slice(-3000)}`;

      assert.deepEqual(hostProblems(r, { peakRssLimitKiB: PEAK_RSS_LIMIT_KIB }), [], context);
      assert.equal(sha256(disk), before, `the read-only disk changed; ${context}`);
      assert.equal(statSync(scratchDisk).size, 2048 * 512, `the scratch disk changed size; ${context}`);
      assert.ok(r.peakRssKiB > 0, 'no memory sample was taken of the host process');

      // The attack got through: the guest reports reaching every kind of target...
      const report = r.report;
      assert.ok(report !== null, `the guest printed no report; ${context}`);
      assert.ok(report.rounds >= 16, `the guest stopped after ${report.rounds} rounds; ${context}`);
      assert.ok(report.mmioWrites > 1000 && report.notifies > 100 && report.used > 0, `the attack reached too little; ${context}`);
      assert.ok(report.blkReadOnlyWrites > 0 && report.blkScratchWrites > 0, `no disk writes; ${context}`);
      assert.ok(report.saneOk > 0 && report.netRx > 0, `no well-behaved checks; ${context}`);
      // ...and the host saw it: the devices logged refusals of the guest's garbage.
      assert.match(r.stderr, /virtio-blk@10001000: blk-write-read-only:/, context);
      assert.match(r.stderr, /virtqueue-[a-z-]+:/, context);
      assert.match(r.stderr, /bad-register-access:/, context);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
