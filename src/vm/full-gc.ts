// A full garbage collection on demand. An idle process allocates too little for V8 to collect
// by itself, so machine code and buffers it no longer uses (translations dropped for an idle
// guest) would stay until the guest got busy again.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/** Collects every generation now (blocking, tens of ms for a VM process's heap). */
export function fullGc(): void {
  if (collect === null) {
    // V8 exposes gc() only to contexts made after the flag is set.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
