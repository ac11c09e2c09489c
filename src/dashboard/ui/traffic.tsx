/**
 * The traffic page, from the event stream's per-second summaries: requests per second, time to
 * first byte and errors per endpoint over the last minutes, and the latest requests.
 */
import { Chart, type ChartSeries } from './chart.js';
import { ms, useLive } from './hooks.js';
import type { LiveState, TrafficPoint } from './live.js';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#dc2626'];
const WINDOW_SECONDS = 300;

type Figure = 'requests' | 'ttfb_ms' | 'errors';

/** One column per second of the window (quiet seconds count as zero requests, unknown TTFB). */
function columns(points: TrafficPoint[], ids: string[], figure: Figure): (number | null)[][] {
  const last = points.at(-1)?.t ?? Math.round(Date.now() / 1000);
  const bySecond = new Map(points.map((p) => [p.t, p]));
  const xs: number[] = [];
  for (let t = last - WINDOW_SECONDS + 1; t <= last; t++) xs.push(t);
  return [
    xs,
    ...ids.map((id) =>
      xs.map((t) => {
        const entry = bySecond.get(t)?.byEndpoint.get(id);
        if (figure === 'ttfb_ms') return entry?.ttfb_ms ?? null;
        return entry?.[figure] ?? 0;
      }),
    ),
  ];
}

/** The endpoints seen in the window, with a colour each. */
function seriesOf(live: LiveState): { ids: string[]; series: ChartSeries[] } {
  const names = new Map<string, string>();
  for (const point of live.traffic) for (const [id, e] of point.byEndpoint) names.set(id, live.endpoints.get(id)?.name ?? e.endpoint_name ?? id);
  const ids = [...names.keys()];
  return { ids, series: ids.map((id, i) => ({ label: names.get(id)!, color: COLORS[i % COLORS.length]! })) };
}

/** The latest requests. */
function RequestsTable({ live }: { live: LiveState }) {
  if (live.requests.length === 0) return <p class="empty">No request yet.</p>;
  return (
    <table class="grid">
      <caption>Latest requests (newest first)</caption>
      <thead>
        <tr>
          <th scope="col">Route</th><th scope="col">Model</th><th scope="col">Endpoint</th><th scope="col">Status</th>
          <th scope="col">TTFB</th><th scope="col">Duration</th><th scope="col">Attempts</th><th scope="col">Queue</th><th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {live.requests.map((r, i) => (
          <tr key={i}>
            <td>{r.route}{r.streamed ? ' (stream)' : ''}</td>
            <td data-label="Model">{r.model ?? '–'}</td>
            <td data-label="Endpoint">{r.endpoint_name ?? '–'}</td>
            <td data-label="Status">{r.status}{r.error ? ` ${r.error}` : ''}</td>
            <td data-label="TTFB">{ms(r.ttfb_ms)}</td>
            <td data-label="Duration">{ms(r.duration_ms)}</td>
            <td data-label="Attempts">{r.attempts}</td>
            <td data-label="Queue">{ms(r.queue_ms)}</td>
            <td data-label="Reason">{r.route_reason ?? '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The traffic page. */
export function TrafficPage() {
  const live = useLive();
  const { ids, series } = seriesOf(live);
  return (
    <section aria-labelledby="traffic-title">
      <h1 id="traffic-title">Traffic</h1>
      <p class="sub">The last {WINDOW_SECONDS / 60} minutes, per endpoint, from the live event stream (kept in this tab only).</p>
      {ids.length === 0 ? (
        <p class="empty">No traffic since this page was opened.</p>
      ) : (
        <div class="charts">
          <Chart title="Requests per second" unit="req/s" series={series} data={columns(live.traffic, ids, 'requests')} />
          <Chart title="Time to first byte (mean per second)" unit="ms" series={series.map((s) => ({ ...s, markers: true }))} data={columns(live.traffic, ids, 'ttfb_ms')} />
          <Chart title="Errors per second" unit="err/s" series={series} data={columns(live.traffic, ids, 'errors')} />
        </div>
      )}
      <h2>Latest requests</h2>
      <RequestsTable live={live} />
    </section>
  );
}
