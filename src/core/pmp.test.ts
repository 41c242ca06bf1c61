import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pmp, PmpAccess } from './pmp.js';
import { HART_STATE_BYTES } from './hart-state.js';
import { Priv } from './privilege.js';

const R = PmpAccess.Read, W = PmpAccess.Write, X = PmpAccess.Execute;
const OFF = 0, TOR = 0x08, NA4 = 0x10, NAPOT = 0x18, LOCK = 0x80;

function pmpWith(entries: Array<{ cfg: number; addr: bigint }>): Pmp {
  const pmp = new Pmp(new Int32Array(HART_STATE_BYTES / 4));
  entries.forEach(({ cfg, addr }, i) => {
    pmp.writeAddress(i, Number(BigInt.asIntN(32, addr)), Number(BigInt.asIntN(32, addr >> 32n)));
    pmp.writeConfigByte(i, cfg);
  });
  pmp.refresh();
  return pmp;
}

test('with no entry configured, only M-mode has access', () => {
  const pmp = pmpWith([]);
  assert.equal(pmp.check(0x80000000, 8, R, Priv.Machine), true);
  assert.equal(pmp.check(0x80000000, 8, R, Priv.Supervisor), false);
  assert.equal(pmp.check(0x80000000, 8, X, Priv.User), false);
});

test('NAPOT with all address bits set covers the whole physical space', () => {
  const pmp = pmpWith([{ cfg: NAPOT | R | W | X, addr: (1n << 54n) - 1n }]);
  assert.equal(pmp.check(0, 4, R, Priv.User), true);
  assert.equal(pmp.check(0x80000000, 8, W, Priv.Supervisor), true);
  assert.equal(pmp.check(2 ** 55 - 8, 8, X, Priv.User), true);
});

test('NAPOT regions: size from trailing ones, base aligned', () => {
  // 0x80000000 + 64 KiB: pmpaddr = base/4 | (size/8 - 1).
  const addr = (0x80000000n >> 2n) | ((0x10000n >> 3n) - 1n);
  const pmp = pmpWith([{ cfg: NAPOT | R, addr }]);
  assert.equal(pmp.check(0x80000000, 4, R, Priv.Supervisor), true);
  assert.equal(pmp.check(0x8000fffc, 4, R, Priv.Supervisor), true);
  assert.equal(pmp.check(0x80010000, 4, R, Priv.Supervisor), false);
  assert.equal(pmp.check(0x8000fffe, 4, R, Priv.Supervisor), false, 'straddling the end fails');
  assert.equal(pmp.check(0x80000000, 4, W, Priv.Supervisor), false, 'no W permission');
  assert.equal(pmp.grantsPage(0x80000000, R, Priv.Supervisor), true);
});

test('TOR uses the previous entry as the bottom; NA4 covers four bytes', () => {
  const pmp = pmpWith([
    { cfg: OFF, addr: 0x1000n >> 2n },
    { cfg: TOR | R | W, addr: 0x2000n >> 2n },
    { cfg: NA4 | X, addr: 0x3000n >> 2n },
  ]);
  assert.equal(pmp.check(0x1000, 8, W, Priv.User), true);
  assert.equal(pmp.check(0xff8, 8, R, Priv.User), false);
  assert.equal(pmp.check(0x1ffc, 4, R, Priv.User), true);
  assert.equal(pmp.check(0x2000, 4, R, Priv.User), false);
  assert.equal(pmp.check(0x3000, 4, X, Priv.User), true);
  assert.equal(pmp.check(0x3000, 8, X, Priv.User), false);
  assert.equal(pmp.grantsPage(0x1000, R, Priv.User), true);
  assert.equal(pmp.grantsPage(0x3000, X, Priv.User), false, 'a partly covered page is not cacheable');
});

test('the lowest-numbered matching entry wins; locked entries bind M-mode', () => {
  const pmp = pmpWith([
    { cfg: NA4 | LOCK, addr: 0x80000000n >> 2n },
    { cfg: NAPOT | R | W | X, addr: (1n << 54n) - 1n },
  ]);
  assert.equal(pmp.check(0x80000000, 4, R, Priv.Machine), false);
  assert.equal(pmp.check(0x80000004, 4, R, Priv.Machine), true);
  assert.equal(pmp.check(0x80000000, 4, R, Priv.Supervisor), false);
  // A locked entry ignores further writes until reset.
  pmp.writeConfigByte(0, NA4 | R | W | X);
  pmp.writeAddress(0, 0, 0);
  pmp.refresh();
  assert.equal(pmp.check(0x80000000, 4, R, Priv.Machine), false);
});

test('the reserved R=0 W=1 combination is not kept', () => {
  const pmp = pmpWith([{ cfg: NAPOT | W, addr: (1n << 54n) - 1n }]);
  assert.equal(pmp.configByte(0) & 3, 0);
});
