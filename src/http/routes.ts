/**
 * The route table: every route llmlb serves, with the roles that may call it and its error
 * shape. Authorisation is a lookup in this table; a new route, or a route for a new role, is a
 * new row. docs/api.md lists the same table.
 */
import { endpointHandlers as endpoints, fleetHandlers as fleet } from './admin-routes.js';
import type { Role } from './auth.js';
import { inferenceHandlers as inference } from './proxy-routes.js';
import { type Route, createRouteIndex } from './route.js';

/** Reading the admin API. */
const READERS: readonly Role[] = ['admin', 'viewer'];
/** Changing anything. */
const ADMINS: readonly Role[] = ['admin'];
/** Inference and the model list. */
const CLIENTS: readonly Role[] = ['admin', 'client'];

/** Every route, in matching order. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v0/endpoints', roles: READERS, errors: 'admin', handle: endpoints.list },
  { method: 'POST', path: '/v0/endpoints', roles: ADMINS, errors: 'admin', handle: endpoints.create },
  { method: 'GET', path: '/v0/endpoints/:id', roles: READERS, errors: 'admin', handle: endpoints.get },
  { method: 'PUT', path: '/v0/endpoints/:id', roles: ADMINS, errors: 'admin', handle: endpoints.update },
  { method: 'DELETE', path: '/v0/endpoints/:id', roles: ADMINS, errors: 'admin', handle: endpoints.delete },
  { method: 'POST', path: '/v0/endpoints/:id/test', roles: ADMINS, errors: 'admin', handle: endpoints.test },
  { method: 'POST', path: '/v0/endpoints/:id/sync', roles: ADMINS, errors: 'admin', handle: endpoints.sync },
  { method: 'GET', path: '/v0/endpoints/:id/health-checks', roles: READERS, errors: 'admin', handle: endpoints.healthChecks },
  { method: 'GET', path: '/v0/endpoints/:id/stats', roles: READERS, errors: 'admin', handle: endpoints.stats },
  { method: 'GET', path: '/v0/models', roles: READERS, errors: 'admin', handle: fleet.models },
  { method: 'GET', path: '/v0/models/*model', roles: READERS, errors: 'admin', handle: fleet.model },
  { method: 'GET', path: '/v0/stats', roles: READERS, errors: 'admin', handle: fleet.stats },
  { method: 'POST', path: '/v1/chat/completions', roles: CLIENTS, errors: 'openai', handle: inference.chat },
  { method: 'POST', path: '/v1/completions', roles: CLIENTS, errors: 'openai', handle: inference.completions },
  { method: 'POST', path: '/v1/embeddings', roles: CLIENTS, errors: 'openai', handle: inference.embeddings },
  { method: 'GET', path: '/v1/models', roles: CLIENTS, errors: 'openai', handle: inference.listModels },
  { method: 'GET', path: '/v1/models/*model', roles: CLIENTS, errors: 'openai', handle: inference.getModel },
];

/** The compiled {@link ROUTES}. */
export const routeIndex = createRouteIndex(ROUTES);
