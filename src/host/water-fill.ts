// Weighted max-min fair division (water-filling): a capacity is shared by weight; a claimant
// whose bound is below its weighted share gets its bound and the rest is shared again among
// the others, by weight, until nothing is left or everyone is at its bound.

export interface FillClaim {
  /** > 0. */
  weight: number;
  /** The most this claimant takes, >= 0; Infinity for no bound. */
  bound: number;
}

/** Each claim's share of `capacity`, in the claims' order; never above a bound, sums to at most `capacity`. */
export function waterFill(capacity: number, claims: readonly FillClaim[]): number[] {
  const shares = claims.map(() => 0);
  let active = claims.map((_, i) => i).filter((i) => claims[i]!.bound > 0);
  let left = capacity;
  while (active.length > 0 && left > 1e-9) {
    const weights = active.reduce((sum, i) => sum + claims[i]!.weight, 0);
    const level = left / weights;
    // Everyone bounded below the level takes its bound; their leftover is shared in the next pass.
    const bounded = active.filter((i) => claims[i]!.bound - shares[i]! <= level * claims[i]!.weight);
    if (bounded.length === 0) {
      for (const i of active) shares[i] = shares[i]! + level * claims[i]!.weight;
      break;
    }
    for (const i of bounded) {
      left -= claims[i]!.bound - shares[i]!;
      shares[i] = claims[i]!.bound;
    }
    active = active.filter((i) => !bounded.includes(i));
  }
  return shares;
}

export interface SpareClaim {
  weight: number;
  /** What the claimant wants now, >= 0 (Infinity: as much as it may have). */
  want: number;
  /** The most it may ever have, >= want's cap; Infinity for no limit. */
  limit: number;
}

/**
 * Two passes: first `capacity` is shared by weight up to what each wants, so one that wants
 * little leaves the rest to the others; then what is still spare is shared by weight up to each
 * one's limit, so nobody is held below its limit while the host has room.
 */
export function fillWithSpare(capacity: number, claims: readonly SpareClaim[]): number[] {
  const first = waterFill(capacity, claims.map((c) => ({ weight: c.weight, bound: Math.min(c.want, c.limit) })));
  const spare = capacity - first.reduce((sum, s) => sum + s, 0);
  const extra = waterFill(spare, claims.map((c, i) => ({ weight: c.weight, bound: c.limit - first[i]! })));
  return first.map((s, i) => s + extra[i]!);
}
