/**
 * The endpoints page: a live table (status, admin state, latency, in flight, queue, models, last
 * error) and, for admins, register, edit, disable/enable, delete, test (an immediate check) and
 * sync. Viewers see the same table without the controls.
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import { EndpointForm } from './form.js';
import { ms, useLive, useSession } from './hooks.js';
import type { Endpoint } from './live.js';
import { Confirm, Modal } from './modal.js';

/** A status or admin state as a coloured badge (the word is always shown, not only the colour). */
export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value}`}>{value.replace('_', ' ')}</span>;
}

type Dialog = { kind: 'register' } | { kind: 'edit'; endpoint: Endpoint } | { kind: 'delete'; endpoint: Endpoint } | null;

/** What an action reported, for the status line. */
async function runAction(endpoint: Endpoint, action: 'test' | 'sync' | 'disable' | 'enable'): Promise<string> {
  switch (action) {
    case 'test': {
      const r = await api<{ success: boolean; latency_ms: number | null; error?: string }>('POST', `/v0/endpoints/${endpoint.id}/test`);
      return r.success ? `${endpoint.name}: test passed in ${ms(r.latency_ms)}` : `${endpoint.name}: test failed — ${r.error ?? 'no answer'}`;
    }
    case 'sync': {
      const r = await api<{ added: string[]; removed: string[]; synced_models: unknown[] }>('POST', `/v0/endpoints/${endpoint.id}/sync`);
      return `${endpoint.name}: ${r.synced_models.length} models (${r.added.length} added, ${r.removed.length} removed)`;
    }
    default:
      await api('PUT', `/v0/endpoints/${endpoint.id}`, { admin_state: action === 'disable' ? 'disabled' : 'enabled' });
      return `${endpoint.name}: ${action}d`;
  }
}

interface RowProps {
  endpoint: Endpoint;
  busy: { in_flight: number; queued?: number } | undefined;
  admin: boolean;
  act: (endpoint: Endpoint, action: 'test' | 'sync' | 'disable' | 'enable') => void;
  open: (dialog: Dialog) => void;
}

/** One endpoint's row. */
function Row({ endpoint: e, busy, admin, act, open }: RowProps) {
  return (
    <tr data-endpoint={e.name}>
      <td>
        <a href={`#/endpoints/${encodeURIComponent(e.id)}`}>{e.name}</a>
        <div class="sub">{e.base_url}</div>
      </td>
      <td data-label="Status">
        <Badge value={e.status} />
      </td>
      <td data-label="Admin state">
        <Badge value={e.admin_state} />
      </td>
      <td data-label="Latency">{ms(e.latency_ms)}</td>
      <td data-label="In flight">{busy?.in_flight ?? 0}</td>
      <td data-label="Queue">{busy?.queued ?? '–'}</td>
      <td data-label="Models">{e.model_count ?? '–'}</td>
      <td data-label="Last error" class="last-error">{e.last_error ?? ''}</td>
      {admin && (
        <td class="actions">
          <button type="button" onClick={() => act(e, 'test')} aria-label={`Test ${e.name}`}>Test</button>
          <button type="button" onClick={() => act(e, 'sync')} aria-label={`Sync ${e.name}`}>Sync</button>
          <button type="button" onClick={() => open({ kind: 'edit', endpoint: e })} aria-label={`Edit ${e.name}`}>Edit</button>
          {e.admin_state === 'disabled' ? (
            <button type="button" onClick={() => act(e, 'enable')} aria-label={`Enable ${e.name}`}>Enable</button>
          ) : (
            <button type="button" onClick={() => act(e, 'disable')} aria-label={`Disable ${e.name}`}>Disable</button>
          )}
          <button type="button" class="danger" onClick={() => open({ kind: 'delete', endpoint: e })} aria-label={`Delete ${e.name}`}>Delete</button>
        </td>
      )}
    </tr>
  );
}

/** The endpoints page. */
export function EndpointsPage() {
  const { role } = useSession();
  const live = useLive();
  const admin = role === 'admin';
  const [dialog, setDialog] = useState<Dialog>(null);
  const [message, setMessage] = useState('');
  const act = (endpoint: Endpoint, action: 'test' | 'sync' | 'disable' | 'enable') => {
    setMessage(`${endpoint.name}: ${action}…`);
    runAction(endpoint, action).then(setMessage, (err: unknown) => setMessage(err instanceof ApiError ? `${endpoint.name}: ${err.message}` : String(err)));
  };
  const remove = async (endpoint: Endpoint) => {
    setDialog(null);
    await api('DELETE', `/v0/endpoints/${endpoint.id}`).then(
      () => setMessage(`${endpoint.name}: deleted`),
      (err: unknown) => setMessage(String(err)),
    );
  };
  const endpoints = [...live.endpoints.values()];

  return (
    <section aria-labelledby="endpoints-title">
      <div class="page-head">
        <h1 id="endpoints-title">Endpoints</h1>
        {admin && (
          <button type="button" class="primary" onClick={() => setDialog({ kind: 'register' })}>
            Register endpoint
          </button>
        )}
      </div>
      <p class="status-line" role="status" aria-live="polite">{message}</p>
      {endpoints.length === 0 ? (
        <p class="empty">No endpoint is registered yet.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Admin state</th><th scope="col">Latency</th>
              <th scope="col">In flight</th><th scope="col">Queue</th><th scope="col">Models</th><th scope="col">Last error</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => <Row key={e.id} endpoint={e} busy={live.busy.get(e.id)} admin={admin} act={act} open={setDialog} />)}
          </tbody>
        </table>
      )}
      {(dialog?.kind === 'register' || dialog?.kind === 'edit') && (
        <Modal label={dialog.kind === 'register' ? 'Register an endpoint' : 'Edit endpoint'} onClose={() => setDialog(null)}>
          <EndpointForm
            {...(dialog.kind === 'edit' ? { endpoint: dialog.endpoint } : {})}
            onDone={(saved) => {
              setDialog(null);
              if (saved) setMessage(`${saved.name}: saved`);
            }}
          />
        </Modal>
      )}
      {dialog?.kind === 'delete' && (
        <Confirm
          title={`Delete ${dialog.endpoint.name}?`}
          message="Its models and health history are deleted with it. Requests are no longer routed to it."
          action="Delete"
          onAnswer={(yes) => (yes ? void remove(dialog.endpoint) : setDialog(null))}
        />
      )}
    </section>
  );
}
