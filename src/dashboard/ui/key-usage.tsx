/**
 * A key's usage over the last 24 hours: requests and errors per hour as a chart, and per model
 * the requests, errors and tokens, with totals.
 */
import { api } from './api.js';
import { Chart } from './chart.js';
import { useLoad } from './hooks.js';
import type { KeyUsageReport as UsageReport } from '../../keys/schema.js';
import type { ApiKey } from '../../keys/schema.js';

/** One row of a usage report. */
type UsageRow = UsageReport['usage'][number];

const HOUR_MS = 3_600_000;

/** Requests and errors per hour of the range, for the chart (`[x seconds, requests, errors]`). */
function hourly(report: UsageReport): number[][] {
  const from = Date.parse(report.from);
  const hours = Math.max(1, Math.round((Date.parse(report.to) - from) / HOUR_MS));
  const xs = Array.from({ length: hours }, (_, i) => (from + i * HOUR_MS) / 1000);
  const requests = new Array<number>(hours).fill(0);
  const errors = new Array<number>(hours).fill(0);
  for (const row of report.usage) {
    const i = Math.round((Date.parse(row.hour) - from) / HOUR_MS);
    requests[i] = (requests[i] ?? 0) + row.requests;
    errors[i] = (errors[i] ?? 0) + row.errors;
  }
  return [xs, requests, errors];
}

/** Per model, summed over the range. */
function byModel(report: UsageReport): UsageRow[] {
  const sums = new Map<string, UsageRow>();
  for (const row of report.usage) {
    const sum = sums.get(row.model) ?? { ...row, requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 };
    sum.requests += row.requests;
    sum.errors += row.errors;
    sum.prompt_tokens += row.prompt_tokens;
    sum.completion_tokens += row.completion_tokens;
    sums.set(row.model, sum);
  }
  return [...sums.values()];
}

/** The usage page of one key. */
export function KeyUsagePage({ id }: { id: string }) {
  const key = useLoad(() => api<ApiKey>('GET', `/v0/keys/${encodeURIComponent(id)}`), [id]);
  const usage = useLoad(() => api<UsageReport>('GET', `/v0/keys/${encodeURIComponent(id)}/usage`), [id]);
  const report = usage.value;
  return (
    <section aria-labelledby="usage-title">
      <p><a href="#/keys">← Keys</a></p>
      <h1 id="usage-title">{key.value ? `Usage of ${key.value.name}` : 'Usage'}</h1>
      {(key.error ?? usage.error) && <p class="error" role="alert">{key.error ?? usage.error}</p>}
      {report && (
        <>
          <Chart
            title="Requests per hour (last 24 hours)"
            unit="requests"
            series={[{ label: 'requests', color: '#2563eb', markers: true }, { label: 'errors', color: '#dc2626', markers: true }]}
            data={hourly(report)}
          />
          <table class="grid">
            <thead>
              <tr><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">Prompt tokens</th><th scope="col">Completion tokens</th></tr>
            </thead>
            <tbody>
              {byModel(report).map((row) => (
                <tr key={row.model}>
                  <td>{row.model}</td>
                  <td data-label="Requests">{row.requests}</td>
                  <td data-label="Errors">{row.errors}</td>
                  <td data-label="Prompt tokens">{row.prompt_tokens}</td>
                  <td data-label="Completion tokens">{row.completion_tokens}</td>
                </tr>
              ))}
              <tr class="totals">
                <th scope="row">Total</th>
                <td data-label="Requests">{report.totals.requests}</td>
                <td data-label="Errors">{report.totals.errors}</td>
                <td data-label="Prompt tokens">{report.totals.prompt_tokens}</td>
                <td data-label="Completion tokens">{report.totals.completion_tokens}</td>
              </tr>
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
