/** The models page: every model, which endpoints serve it, and whether it is available now. */
import { api } from './api.js';
import { Badge } from './endpoints.js';
import { useLive, useLoad } from './hooks.js';

interface ModelInfo {
  id: string;
  available: boolean;
  capabilities: string[];
  endpoints: { id: string; name: string; status: string; admin_state: string }[];
}

/** The models page. */
export function ModelsPage() {
  const live = useLive();
  const models = useLoad(() => api<{ models: ModelInfo[] }>('GET', '/v0/models'), [live.endpoints]);
  const list = models.value?.models ?? [];
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      {models.error && <p class="error" role="alert">{models.error}</p>}
      {list.length === 0 ? (
        <p class="empty">No model is known yet: register an endpoint and sync it.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr><th scope="col">Model</th><th scope="col">Available</th><th scope="col">Capabilities</th><th scope="col">Endpoints</th></tr>
          </thead>
          <tbody>
            {list.map((m) => (
              <tr key={m.id}>
                <td>{m.id}</td>
                <td data-label="Available"><Badge value={m.available ? 'available' : 'unavailable'} /></td>
                <td data-label="Capabilities">{m.capabilities.join(', ')}</td>
                <td data-label="Endpoints">
                  <ul class="inline">
                    {m.endpoints.map((e) => (
                      <li key={e.id}>
                        <a href={`#/endpoints/${encodeURIComponent(e.id)}`}>{e.name}</a> <Badge value={e.status} />
                        {e.admin_state !== 'enabled' && <Badge value={e.admin_state} />}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
