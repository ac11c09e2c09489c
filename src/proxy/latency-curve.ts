/**
 * How fast an endpoint answers a model as a function of how busy it is: decaying averages of
 * real requests' latency (time to the first token of a stream, or to a whole answer), kept per
 * level of requests already in flight when the request was sent. The curve is flat while the
 * server has free decode slots and climbs once requests queue inside it, so it shows each
 * endpoint's capacity without being told. Fixed arrays: no allocation per request.
 */

/** In-flight levels of each bucket: 0, 1, 2, 3, 4–5, 6–7, 8–11, 12–15, 16–23, 24–31, 32–47, 48–63, 64+. */
const BUCKET_FLOORS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] as const;
const BUCKETS = BUCKET_FLOORS.length;
/** Weight of a new sample in its bucket's average. */
const EWMA_WEIGHT = 0.25;

/** The bucket of an in-flight level. */
function bucketOf(inFlight: number): number {
  let b = 0;
  while (b + 1 < BUCKETS && inFlight >= (BUCKET_FLOORS[b + 1] as number)) b++;
  return b;
}

/**
 * One latency curve (e.g. streams of one model on one endpoint).
 *
 * @example
 * const curve = new LatencyCurve();
 * curve.observe(0, 120); curve.observe(8, 130);
 * curve.expected(4); // ≈ 125: between two measured levels
 */
export class LatencyCurve {
  readonly #ms = new Float64Array(BUCKETS);
  readonly #seen = new Uint8Array(BUCKETS);
  #any = false;

  /** True once a sample was recorded. */
  get measured(): boolean {
    return this.#any;
  }

  /** Records a request sent when `inFlight` others were running, answered in `ms`. */
  observe(inFlight: number, ms: number): void {
    const b = bucketOf(inFlight);
    this.#ms[b] = this.#seen[b] ? (this.#ms[b] as number) + EWMA_WEIGHT * (ms - (this.#ms[b] as number)) : ms;
    this.#seen[b] = 1;
    this.#any = true;
  }

  /**
   * Expected latency of a request sent now, with `inFlight` requests running; null before any
   * sample. A level never measured is estimated from the nearest measured ones: between two,
   * on the line joining them; below the lowest, that value; above the highest, that value grown
   * in proportion to the extra load (as if the server had no free slot left), so a busy
   * endpoint looks slower until it proves otherwise.
   */
  expected(inFlight: number): number | null {
    if (!this.#any) return null;
    const b = bucketOf(inFlight);
    if (this.#seen[b]) return this.#ms[b] as number;
    let below = b - 1;
    while (below >= 0 && !this.#seen[below]) below--;
    let above = b + 1;
    while (above < BUCKETS && !this.#seen[above]) above++;
    if (below < 0) return this.#ms[above] as number;
    const low = this.#ms[below] as number;
    const lowAt = BUCKET_FLOORS[below] as number;
    if (above === BUCKETS) return (low * (inFlight + 1)) / (lowAt + 1);
    const highAt = BUCKET_FLOORS[above] as number;
    return low + (((this.#ms[above] as number) - low) * (inFlight - lowAt)) / (highAt - lowAt);
  }
}
