/**
 * Model discovery helpers: model-list parsing (OpenAI and Ollama formats) and capability
 * detection from model names.
 *
 * @example
 * import { parseModelList, detectCapabilities } from './models/index.js';
 * const models = parseModelList(body).map((id) => ({ model_id: id, capabilities: detectCapabilities(id) }));
 */
export {
  MAX_MODEL_ID_LENGTH,
  MAX_MODEL_LIST_ENTRIES,
  ModelListError,
  parseModelList,
  parseModelListText,
  type ModelListErrorReason,
} from './parse.js';
export {
  DEFAULT_CAPABILITY_RULES,
  FALLBACK_CAPABILITIES,
  capabilityDetector,
  detectCapabilities,
  modelBaseName,
  toCapabilityDetector,
  type CapabilityDetector,
  type CapabilityRule,
} from './capabilities.js';
