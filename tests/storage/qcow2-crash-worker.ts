// A process for the qcow2 crash test to SIGKILL: it opens an image and changes it without end
// (writes, zeroes, discards, and in 'snapshots' mode snapshot creation, revert and deletion),
// printing "running" once the first change is done.
// Usage: node qcow2-crash-worker.js IMAGE SEED data|snapshots

import { Qcow2Image } from '../../src/storage/qcow2/qcow2-image.js';

const [path, seedText, mode] = process.argv.slice(2);
if (path === undefined || seedText === undefined || (mode !== 'data' && mode !== 'snapshots')) {
  console.error('usage: qcow2-crash-worker.js IMAGE SEED data|snapshots');
  process.exit(2);
}
let x = Number(seedText) >>> 0 || 1;
const next = (below: number): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % below;
};

const image = await Qcow2Image.open(path);
let announced = false;
for (let step = 0; ; step++) {
  const length = 1 + next(200_000);
  const offset = next(image.size - length);
  const op = next(mode === 'snapshots' ? 12 : 10);
  if (op < 6) await image.write(offset, new Uint8Array(length).fill(step & 0xff));
  else if (op < 8) await image.discard(offset, length);
  else if (op < 10) await image.writeZeroes(offset, length);
  else if (op === 10) {
    const names = image.listSnapshots().map((s) => s.name);
    if (names.length < 3) await image.createSnapshot(`s${seedText}-${step}`);
    else await image.deleteSnapshot(names[next(names.length)]!);
  } else {
    const names = image.listSnapshots().map((s) => s.name);
    if (names.length > 0) await image.revertSnapshot(names[next(names.length)]!);
  }
  if (!announced) {
    announced = true;
    process.stdout.write('running\n');
  }
}
