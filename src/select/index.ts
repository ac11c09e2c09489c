/** Selectors: how the proxy chooses among the online endpoints serving a model. */
export { expectedLatencySelector } from './expected-latency.js';
export { latencySelector } from './latency.js';
export { roundRobinSelector } from './round-robin.js';
export { leastBusySelector } from './least-busy.js';
export type { EndpointStatsView, SelectionCandidate, SelectionContext, Selector } from './types.js';
