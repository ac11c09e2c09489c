/**
 * Which endpoints can take a request's content (its {@link RequestNeeds}): the model there has
 * the capabilities the content needs — when its server says what the model does — and a context
 * window that holds the estimated prompt plus the requested output — when its server tells it.
 * What is unknown is allowed.
 */
import { toldCapabilities } from '../backends/read.js';
import { LlmlbError } from '../errors.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointModel, EndpointRecord } from '../schema.js';
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

/** True when the endpoint's model can take the request's content (what is unknown is allowed). */
function fits(registry: RegistryView, endpoint: EndpointRecord, model: string, needs: RequestNeeds): boolean {
  const entry = registry.modelOf(endpoint.id, model);
  return entry === undefined || (hasCapabilities(endpoint, entry, needs.capabilities) && hasContext(entry, needs));
}

/**
 * The candidates whose model can take the request's content: `candidates` itself when all can
 * (no allocation), a narrower array otherwise.
 *
 * @example
 * fitting(registry.onlineEndpointsFor(model, 'chat'), registry, model, needs)
 */
export function fitting(candidates: readonly EndpointRecord[], registry: RegistryView, model: string, needs: RequestNeeds): readonly EndpointRecord[] {
  if (needs.promptTokens === null && needs.capabilities.length === 0) return candidates;
  for (const candidate of candidates) {
    if (!fits(registry, candidate, model, needs)) return candidates.filter((c) => fits(registry, c, model, needs));
  }
  return candidates;
}

/** What each needed capability means of the request, for error messages. */
const WHY: Readonly<Record<string, string>> = { vision: 'vision (the request has image input)', tools: 'tools (the request defines tools)' };

/**
 * Why no routable candidate can take the request's content, judged over every endpoint serving
 * the model with the route's capability (in any status): `model_not_capable` when none has the
 * capabilities the content needs, `context_length_exceeded` when none of those has the context;
 * otherwise one that could is not routable now: `no_available_endpoint`.
 */
export function unfitError(registry: RegistryView, model: string, capability: Capability, needs: RequestNeeds): LlmlbError {
  const serving = registry.endpointsFor(model).filter((e) => registry.hasCapability(e.id, model, capability));
  const entryOf = (e: EndpointRecord): EndpointModel | undefined => registry.modelOf(e.id, model);
  const capable = serving.filter((e) => {
    const entry = entryOf(e);
    return entry === undefined || hasCapabilities(e, entry, needs.capabilities);
  });
  if (capable.length === 0) {
    const missing = needs.capabilities.filter((c) => !serving.some((e) => hasCapabilities(e, entryOf(e)!, [c])));
    const named = (missing.length > 0 ? missing : needs.capabilities).map((c) => WHY[c] ?? c).join(' and ');
    return new LlmlbError('model_not_capable', `no endpoint serving model ${JSON.stringify(model)} supports ${named}`);
  }
  if (!capable.some((e) => hasContext(entryOf(e)!, needs))) {
    const largest = Math.max(...capable.map((e) => entryOf(e)?.context_length ?? 0));
    return new LlmlbError(
      'context_length_exceeded',
      `the request needs about ${neededContext(needs)} tokens of context (about ${needs.promptTokens} prompt tokens, estimated as body bytes / ${BYTES_PER_TOKEN}, ` +
        `plus ${needs.outputTokens} output tokens asked for); the largest context of an endpoint serving model ${JSON.stringify(model)} is ${largest} tokens`,
    );
  }
  return new LlmlbError('no_available_endpoint', `no online endpoint serves model ${JSON.stringify(model)} with what the request needs right now`);
}
