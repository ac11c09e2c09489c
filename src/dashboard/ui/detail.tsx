/**
 * An endpoint's page: its figures, the health history as a chart (latency and failures over
 * time) and a table, and its models with their capabilities. Refreshed when a check or sync of
 * the endpoint arrives on the event stream.
 */
import { api } from './api.js';
import { Chart } from './chart.js';
import { Badge } from './endpoints.js';
import { ms, useLive, useLoad, when } from './hooks.js';
import type { Endpoint } from './live.js';

interface HealthCheck {
  id: string;
  checked_at: string;
  success: boolean;
  latency_ms: number | null;
  error_message: string | null;
  status_before: string;
  status_after: string;
}

interface ModelRow {
  model_id: string;
  capabilities: string[];
  last_checked: string;
  [field: string]: unknown;
}

const HISTORY = 200;
const MODEL_FIELDS = new Set(['model_id', 'capabilities', 'last_checked', 'endpoint_id']);

/** The chart's columns: time, latency of successes, and a marker at 0 for each failure. */
function historyData(checks: HealthCheck[]): (number | null)[][] {
  const rows = [...checks].reverse();
  return [
    rows.map((c) => Date.parse(c.checked_at) / 1000),
    rows.map((c) => (c.success ? c.latency_ms : null)),
    rows.map((c) => (c.success ? null : 0)),
  ];
}

/** Any metadata a model carries beyond its id and capabilities. */
function metadata(model: ModelRow): string {
  return Object.entries(model)
    .filter(([key, value]) => !MODEL_FIELDS.has(key) && value !== null && value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ');
}

/** The history table. */
function HistoryTable({ checks }: { checks: HealthCheck[] }) {
  return (
    <table class="grid">
      <caption>Latest {checks.length} checks</caption>
      <thead>
        <tr><th scope="col">Checked at</th><th scope="col">Result</th><th scope="col">Latency</th><th scope="col">Status</th><th scope="col">Error</th></tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr key={c.id}>
            <td>{when(c.checked_at)}</td>
            <td data-label="Result">{c.success ? 'success' : 'failure'}</td>
            <td data-label="Latency">{ms(c.latency_ms)}</td>
            <td data-label="Status">{c.status_before === c.status_after ? c.status_after : `${c.status_before} → ${c.status_after}`}</td>
            <td data-label="Error">{c.error_message ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The endpoint page for `id`. */
export function EndpointDetail({ id }: { id: string }) {
  const live = useLive();
  const touched = live.touched.get(id) ?? 0;
  const detail = useLoad(() => api<Endpoint & { models: ModelRow[] }>('GET', `/v0/endpoints/${encodeURIComponent(id)}`), [id, touched, live.endpoints.get(id)?.admin_state]);
  const history = useLoad(() => api<{ health_checks: HealthCheck[] }>('GET', `/v0/endpoints/${encodeURIComponent(id)}/health-checks?limit=${HISTORY}`), [id, touched]);
  const endpoint = live.endpoints.get(id) ?? detail.value;
  if (!endpoint) return <p role="status">{detail.error ?? 'Loading…'}</p>;
  const checks = history.value?.health_checks ?? [];
  const models = detail.value?.models ?? [];

  return (
    <section aria-labelledby="detail-title">
      <p><a href="#/endpoints">← Endpoints</a></p>
      <h1 id="detail-title">{endpoint.name}</h1>
      <dl class="facts">
        <dt>Base URL</dt><dd>{endpoint.base_url}</dd>
        <dt>Status</dt><dd><Badge value={endpoint.status} /></dd>
        <dt>Admin state</dt><dd><Badge value={endpoint.admin_state} /></dd>
        <dt>Check latency</dt><dd>{ms(endpoint.latency_ms)}</dd>
        <dt>Consecutive failures</dt><dd>{endpoint.error_count}</dd>
        <dt>Last seen</dt><dd>{when(endpoint.last_seen)}</dd>
        <dt>Last error</dt><dd>{endpoint.last_error ?? '–'}</dd>
        <dt>Notes</dt><dd>{endpoint.notes ?? '–'}</dd>
      </dl>
      <h2>Health history</h2>
      <Chart
        title="Health checks: latency (line) and failures (red points)"
        unit="ms"
        series={[{ label: 'latency', color: '#2563eb' }, { label: 'failure', color: '#dc2626', points: true }]}
        data={historyData(checks)}
      />
      {checks.length === 0 ? <p class="empty">No check recorded yet.</p> : <HistoryTable checks={checks} />}
      <h2>Models</h2>
      {models.length === 0 ? (
        <p class="empty">No model synced.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr><th scope="col">Model</th><th scope="col">Capabilities</th><th scope="col">Metadata</th><th scope="col">Last checked</th></tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.model_id}>
                <td>{m.model_id}</td>
                <td data-label="Capabilities">{m.capabilities.join(', ')}</td>
                <td data-label="Metadata">{metadata(m) || '–'}</td>
                <td data-label="Last checked">{when(m.last_checked)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
