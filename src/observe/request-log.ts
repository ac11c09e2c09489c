/**
 * The request log: one `info` line per proxied request (route, model, endpoint, status, time to
 * first byte, duration, attempts, queue wait, route reason, the client key's name and id — never
 * the key) and one per admin write through the HTTP API (who, what, which endpoint).
 */
import type { Logger } from '../logger.js';
import type { RequestEvent } from '../proxy/options.js';

/** What an admin write through the HTTP API did. */
export type AdminAction = 'create' | 'update' | 'delete' | 'test' | 'sync' | 'register' | 'approve' | 'reject';

/** Payload of the router's `admin` event: one admin write through the HTTP API, done. */
export interface AdminEvent {
  action: AdminAction;
  endpoint_id: string;
  /** The endpoint's name (before a delete), or null when unknown. */
  endpoint_name: string | null;
  /** Name of the key that made the write (never the key), or null. */
  key_name: string | null;
}

/** The events the log listens to. */
export interface LoggedEvents {
  on(event: 'request', listener: (event: RequestEvent) => void): unknown;
  on(event: 'admin', listener: (event: AdminEvent) => void): unknown;
  off(event: 'request', listener: (event: RequestEvent) => void): unknown;
  off(event: 'admin', listener: (event: AdminEvent) => void): unknown;
}

/** The log fields of one proxied request. */
function requestFields(e: RequestEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    route: e.route,
    model: e.model,
    endpoint: e.endpoint_name,
    endpoint_id: e.endpoint_id,
    status: e.status,
    ttfb_ms: e.ttfb_ms,
    duration_ms: e.duration_ms,
    attempts: e.attempts,
    streamed: e.streamed,
    client: e.key_name,
    client_key_id: e.key_id,
  };
  if (e.queue_ms !== undefined) fields.queue_ms = e.queue_ms;
  if (e.route_reason !== undefined) fields.route_reason = e.route_reason;
  if (e.usage) {
    fields.prompt_tokens = e.usage.prompt_tokens;
    fields.completion_tokens = e.usage.completion_tokens;
  }
  if (e.error !== null) fields.error = e.error;
  return fields;
}

/**
 * Writes the request log of a router to `logger` (at `info`); returns the function that stops it.
 *
 * @example
 * const stop = attachRequestLog(router, logger);
 */
export function attachRequestLog(events: LoggedEvents, logger: Logger): () => void {
  const onRequest = (e: RequestEvent) => logger.info(requestFields(e), 'request');
  const onAdmin = (e: AdminEvent) =>
    logger.info({ action: e.action, endpoint_id: e.endpoint_id, endpoint: e.endpoint_name, client: e.key_name }, 'admin write');
  events.on('request', onRequest);
  events.on('admin', onAdmin);
  return () => {
    events.off('request', onRequest);
    events.off('admin', onAdmin);
  };
}
