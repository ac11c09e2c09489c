/**
 * Which endpoint takes a request: the routable endpoints serving the model (for an alias, any of
 * its targets; see `candidates.ts`) with the capability whose model can take the request's
 * content (`request-fit.ts`), minus those already tried and
 * (while others are left) those passive health suspended; minus those at their concurrency cap
 * (this instance's share of it); the session's pinned endpoint when it is among them; else the
 * lowest priority tier with a free slot — there, those with the model loaded while one of them
 * is not queueing — and the selector among them. Every choice says why.
 */
import type { Clock } from '../clock.js';
import { LlmlbError } from '../errors.js';
import type { PassiveHealth } from '../health/outlier.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointRecord } from '../schema.js';
import type { EndpointStatsView, SelectionContext, Selector } from '../select/types.js';
import { isQueueing } from '../select/upstream-load.js';
import type { SessionAffinity } from './affinity.js';
import type { ModelCandidates } from './candidates.js';
import { RequestFit } from './request-fit.js';
import type { RequestNeeds } from './request-needs.js';
import type { EndpointStats } from './stats.js';

/**
 * Why a request went where it went (the `x-llmlb-route` header and the `request` event);
 * `loaded`: the one endpoint of its tier with the model in memory, preferred over those without.
 */
export type RouteReason = 'affinity' | 'spillover' | 'failover' | 'only-candidate' | 'loaded' | (string & {});

/** What a choice depends on. */
export interface ChoiceRequest {
  model: string;
  capability: Capability;
  stream: boolean;
  /** What the request's content needs of the model (capabilities, context). */
  needs: RequestNeeds;
  /** The session key, when affinity is on and the request carries one. */
  session: string | null;
  /** Endpoints already tried for this request. */
  exclude: ReadonlySet<string> | undefined;
}

/** An endpoint chosen for a request, and why. */
export interface Choice {
  endpoint: EndpointRecord;
  reason: RouteReason;
  /** Monotonic ms when the request's slot there was claimed (set by the proxy). */
  claimedAt: number;
}

/** What the chooser reads. */
export interface ChooserDeps {
  registry: RegistryView;
  /** The candidates of a requested name: a model id's endpoints, or an alias's. */
  candidates: ModelCandidates;
  stats: EndpointStats;
  passive: PassiveHealth;
  selector: Selector;
  clock: Clock;
  affinity: SessionAffinity | null;
  /**
   * How many instances share each endpoint's cap (1 on its own; with several instances on one
   * database, the live ones): each enforces `ceil(max_concurrency / instances)`.
   */
  capShares: () => number;
}

const noEndpoint = (model: string) => new LlmlbError('no_available_endpoint', `no online, enabled endpoint serves model ${JSON.stringify(model)} right now (offline, disabled and pending-approval endpoints are not routed)`);

/**
 * Chooses endpoints. Allocates only when it must narrow the candidate list (content an endpoint
 * cannot take, an exclusion, a suspension, a full endpoint, several tiers, models not loaded).
 *
 * @example
 * const choice = chooser.choose({ model, capability: 'chat', stream: true, needs: NO_NEEDS, session: null, exclude: undefined });
 * // null: every candidate is at its cap — queue the request
 */
export class EndpointChooser {
  readonly #deps: ChooserDeps;
  readonly #fit: RequestFit;
  /**
   * Per routable list (shared and frozen, replaced on any change of its endpoints or models):
   * whether one of them has the model not loaded. Most fleets never say so: no scan per request.
   */
  readonly #someCold = new WeakMap<readonly EndpointRecord[], boolean>();

  constructor(deps: ChooserDeps) {
    this.#deps = deps;
    this.#fit = new RequestFit(deps.registry, deps.candidates);
  }

  /**
   * The endpoint for a request now, or null when every candidate is at its cap. Throws
   * `model_not_found`, `invalid_request` (the model lacks the capability), `model_not_capable`
   * or `context_length_exceeded` (no endpoint can take the content) or `no_available_endpoint`.
   */
  choose(request: ChoiceRequest): Choice | null {
    const usable = this.#usable(request);
    const free = usable.some(this.#isFull) ? usable.filter((c) => !this.#isFull(c)) : usable;
    if (free.length === 0) return null;
    const pinned = this.#pinned(request, free);
    if (pinned) return { endpoint: pinned, reason: 'affinity', claimedAt: 0 };
    const tier = lowestTier(free);
    const spilled = tier !== lowestTier(usable);
    const inTier = free.some((c) => c.priority !== tier) ? free.filter((c) => c.priority === tier) : free;
    const offered = this.#preferLoaded(request, inTier);
    // A new session starts where rendezvous hashing puts it in the tier: the same on every instance.
    const placed = request.session === null ? undefined : this.#deps.affinity?.rendezvous(request.session, offered);
    if (placed) return { endpoint: placed, reason: 'affinity', claimedAt: 0 };
    const endpoint = this.#select(request, offered);
    if (!endpoint) throw noEndpoint(request.model);
    const single = offered === inTier ? 'only-candidate' : 'loaded';
    const reason = spilled ? 'spillover' : offered.length === 1 ? single : (this.#deps.selector.reason ?? 'selector');
    return { endpoint, reason, claimedAt: 0 };
  }

  /**
   * The routable candidates that can take the request's content, minus the excluded, and minus
   * the suspended while others are left.
   */
  #usable({ model, capability, needs, exclude }: ChoiceRequest): readonly EndpointRecord[] {
    const { candidates: source, passive, clock } = this.#deps;
    if (!source.known(model)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(model)} is not served by any endpoint`);
    }
    let candidates = source.online(model, capability);
    if (candidates.length === 0) {
      if (source.served(model) && !source.supports(model, capability)) {
        throw new LlmlbError('invalid_request', `model ${JSON.stringify(model)} does not support ${capability}`);
      }
      throw noEndpoint(model);
    }
    candidates = this.#fit.fitting(candidates, model, capability, needs);
    if (candidates.length === 0) throw this.#fit.unfitError(model, capability, needs);
    if (exclude && exclude.size > 0) candidates = candidates.filter((c) => !exclude.has(c.id));
    const now = clock.monotonic();
    if (candidates.some((c) => passive.isSuspended(c.id, now))) {
      const healthy = candidates.filter((c) => !passive.isSuspended(c.id, now));
      if (healthy.length > 0) candidates = healthy;
    }
    if (candidates.length === 0) throw noEndpoint(model);
    return candidates;
  }

  readonly #isFull = (endpoint: EndpointRecord): boolean => {
    const cap = effectiveCap(endpoint, this.#deps.stats);
    return cap !== null && this.#deps.stats.inFlight(endpoint.id) >= Math.ceil(cap / this.#deps.capShares());
  };

  /** The session's pinned endpoint, when it is among the free candidates. */
  #pinned({ session }: ChoiceRequest, free: readonly EndpointRecord[]): EndpointRecord | undefined {
    const id = session === null ? undefined : this.#deps.affinity?.endpointOf(session);
    return id === undefined ? undefined : free.find((c) => c.id === id);
  }

  /**
   * The endpoints with the model loaded (or not saying), when some of the tier's have it loaded
   * and some do not, and at least one that has it is not queueing (its server reports requests
   * waiting, or every slot busy): a request there does not wait for the model to load. Otherwise
   * the tier as it is (no allocation).
   */
  #preferLoaded({ model, capability }: ChoiceRequest, tier: readonly EndpointRecord[]): readonly EndpointRecord[] {
    if (!this.#anyCold(model, capability)) return tier;
    const { stats, clock } = this.#deps;
    const fit = this.#fit;
    let cold = false;
    let warm = false;
    let wallNow: number | undefined;
    for (const c of tier) {
      const loaded = fit.entryOf(c, model, capability)?.loaded ?? null;
      if (loaded === false) cold = true;
      else if (loaded === true && !warm) warm = !isQueueing(c, stats, (wallNow ??= clock.now()));
    }
    return cold && warm ? tier.filter((c) => fit.entryOf(c, model, capability)?.loaded !== false) : tier;
  }

  /** True when a routable endpoint for the name has the model not loaded (cached per routable list). */
  #anyCold(model: string, capability: Capability): boolean {
    const online = this.#deps.candidates.online(model, capability);
    let cold = this.#someCold.get(online);
    if (cold === undefined) {
      cold = online.some((c) => this.#fit.entryOf(c, model, capability)?.loaded === false);
      this.#someCold.set(online, cold);
    }
    return cold;
  }

  #select({ model, capability, stream }: ChoiceRequest, offered: readonly EndpointRecord[]): EndpointRecord | undefined {
    const { selector, stats, registry, clock } = this.#deps;
    const context: SelectionContext = { model, capability, stream, stats, now: clock.monotonic(), wallNow: clock.now() };
    const chosen = selector(offered, context);
    const record = chosen && registry.getEndpoint(chosen.id);
    return record && offered.includes(record) ? record : undefined;
  }
}

/**
 * Most requests llmlb sends an endpoint at once: the admin's `max_concurrency`, else the number
 * of slots the server says it has (llama.cpp's `total_slots`), else no cap.
 *
 * @example
 * effectiveCap({ id, max_concurrency: null }, stats) // 4 for a llama-server started with -np 4
 */
export function effectiveCap(endpoint: Pick<EndpointRecord, 'id' | 'max_concurrency'>, stats: EndpointStatsView): number | null {
  return endpoint.max_concurrency ?? stats.upstreamLoad(endpoint.id)?.slots_total ?? null;
}

/** The lowest priority number among endpoints. */
function lowestTier(endpoints: readonly EndpointRecord[]): number {
  let tier = Infinity;
  for (const e of endpoints) if (e.priority < tier) tier = e.priority;
  return tier;
}
