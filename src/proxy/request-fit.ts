/**
 * Which endpoints can take a request's content (its {@link RequestNeeds}): the model there has
 * the capabilities the content needs — when its server says what the model does — and a context
 * window that holds the estimated prompt plus the requested output — when its server tells it.
 * What is unknown is allowed. For an alias, each endpoint is judged by the target it would be sent.
 */
import { toldCapabilities } from '../backends/read.js';
import { LlmlbError } from '../errors.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointModel, EndpointRecord } from '../schema.js';
import type { ModelCandidates } from './candidates.js';
import { BYTES_PER_TOKEN, type RequestNeeds } from './request-needs.js';

/**
 * True unless the server told what the model does (`capabilities_source: 'backend'`) and one
 * of `needed` is among what its type tells but not among the model's capabilities.
 */
function hasCapabilities(endpoint: EndpointRecord, entry: EndpointModel, needed: readonly Capability[]): boolean {
  if (needed.length === 0 || entry.capabilities_source !== 'backend') return true;
  const told = toldCapabilities(endpoint.type);
  for (const capability of needed) if (told.includes(capability) && !entry.capabilities.includes(capability)) return false;
  return true;
}

/** Estimated prompt plus requested output, in tokens (null: not estimated). */
function neededContext(needs: RequestNeeds): number | null {
  return needs.promptTokens === null ? null : needs.promptTokens + needs.outputTokens;
}

/** True when the request's context fits the model's window there, or either is unknown. */
function hasContext(entry: EndpointModel, needs: RequestNeeds): boolean {
  const needed = neededContext(needs);
  return needed === null || entry.context_length === null || needed <= entry.context_length;
}

/** What each needed capability means of the request, for error messages. */
const WHY: Readonly<Record<string, string>> = { vision: 'vision (the request has image input)', tools: 'tools (the request defines tools)' };

/**
 * Judges endpoints by a request's needs, reading the registry's model entries (no allocation
 * unless it must narrow a list).
 *
 * @example
 * const fit = new RequestFit(registry, candidates);
 * fit.fitting(candidates.online(model, 'chat'), model, 'chat', needs);
 */
export class RequestFit {
  readonly #registry: RegistryView;
  readonly #source: ModelCandidates;

  constructor(registry: RegistryView, source: ModelCandidates) {
    this.#registry = registry;
    this.#source = source;
  }

  /** The endpoint's entry for the model a request naming `name` is sent there (for an alias, its target there). */
  entryOf(endpoint: EndpointRecord, name: string, capability: Capability): EndpointModel | undefined {
    return this.#registry.modelOf(endpoint.id, this.#source.upstreamModel(name, endpoint.id, capability) ?? name);
  }

  /**
   * The candidates whose model can take the request's content: `candidates` itself when all can
   * (no allocation), a narrower array otherwise.
   */
  fitting(candidates: readonly EndpointRecord[], name: string, capability: Capability, needs: RequestNeeds): readonly EndpointRecord[] {
    if (needs.promptTokens === null && needs.capabilities.length === 0) return candidates;
    for (const candidate of candidates) {
      if (!this.#fits(candidate, name, capability, needs)) return candidates.filter((c) => this.#fits(c, name, capability, needs));
    }
    return candidates;
  }

  /**
   * Why no routable candidate can take the request's content, judged over every endpoint serving
   * the name with the route's capability (in any status): `model_not_capable` when none has the
   * capabilities the content needs, `context_length_exceeded` when none of those has the
   * context; otherwise one that could is not routable now: `no_available_endpoint`.
   */
  unfitError(name: string, capability: Capability, needs: RequestNeeds): LlmlbError {
    const serving = this.#source.serving(name, capability).flatMap((endpoint) => {
      const entry = this.entryOf(endpoint, name, capability);
      return entry === undefined ? [] : [{ endpoint, entry }];
    });
    const capable = serving.filter(({ endpoint, entry }) => hasCapabilities(endpoint, entry, needs.capabilities));
    if (capable.length === 0) {
      const missing = needs.capabilities.filter((c) => !serving.some(({ endpoint, entry }) => hasCapabilities(endpoint, entry, [c])));
      const named = (missing.length > 0 ? missing : needs.capabilities).map((c) => WHY[c] ?? c).join(' and ');
      return new LlmlbError('model_not_capable', `no endpoint serving model ${JSON.stringify(name)} supports ${named}`);
    }
    if (!capable.some(({ entry }) => hasContext(entry, needs))) {
      const largest = Math.max(...capable.map(({ entry }) => entry.context_length ?? 0));
      return new LlmlbError(
        'context_length_exceeded',
        `the request needs about ${neededContext(needs)} tokens of context (about ${needs.promptTokens} prompt tokens, estimated as body bytes / ${BYTES_PER_TOKEN}, ` +
          `plus ${needs.outputTokens} output tokens asked for); the largest context of an endpoint serving model ${JSON.stringify(name)} is ${largest} tokens`,
      );
    }
    return new LlmlbError('no_available_endpoint', `no online, enabled endpoint serves model ${JSON.stringify(name)} with what the request needs right now`);
  }

  /** True when the endpoint's model can take the request's content (what is unknown is allowed). */
  #fits(endpoint: EndpointRecord, name: string, capability: Capability, needs: RequestNeeds): boolean {
    const entry = this.entryOf(endpoint, name, capability);
    return entry === undefined || (hasCapabilities(endpoint, entry, needs.capabilities) && hasContext(entry, needs));
  }
}
