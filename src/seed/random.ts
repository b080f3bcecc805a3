/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) for reproducible generated data: the same
 * seed and stream name always give the same sequence, on any machine (no Math.random, no clock).
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** `stream` separates independent sequences drawn from one seed (categories, products...). */
  constructor(seed: number, stream = '') {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
    const split = () => {
      h = (h + 0x9e3779b9) >>> 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly drawn item; throws on an empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Random.pick: no items to pick from');
    return itemAt(items, this.int(items.length));
  }

  /** `count` distinct items, in random order; throws when count > items.length. */
  sample<T>(items: readonly T[], count: number): T[] {
    if (count > items.length) throw new RangeError(`Random.sample: ${count} items asked of ${items.length}`);
    const pool = [...items];
    const out: T[] = [];
    // The pool is never empty here (count ≤ items.length): each splice removes exactly one item.
    for (let i = 0; i < count; i++) out.push(...pool.splice(this.int(pool.length), 1));
    return out;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Draws indexes 0..n-1 with probability proportional to `weights` (binary search over the
 * cumulative sums); `zipf(n, s)` gives the skewed weights 1/rank^s of real catalogs (a few brands
 * hold most products).
 */
export class Weighted {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => (this.cumulative[i] = sum += w));
  }

  static zipf(n: number, s: number): Weighted {
    return new Weighted(Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s)));
  }

  /** An index in 0..n-1; throws when there are no weights. */
  draw(random: Random): number {
    const last = this.cumulative.length - 1;
    if (last < 0) throw new RangeError('Weighted.draw: no weights to draw from');
    const target = random.next() * itemAt(this.cumulative, last);
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (itemAt(this.cumulative, mid) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * `items[index]`, for an index that must be in range (a drawn or computed one): throws a RangeError
 * instead of returning undefined when it is not.
 */
export function itemAt<T>(items: ArrayLike<T>, index: number): T {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) {
    throw new RangeError(`index ${index} out of range (length ${items.length})`);
  }
  return items[index]!;
}
