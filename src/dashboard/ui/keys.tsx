/**
 * The keys page (admins only): every API key — configured ones read-only — with its state and
 * limits; create a key (its secret is shown once, in a dialog), revoke one after confirmation,
 * and open a key's usage.
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import { Badge } from './endpoints.js';
import { useLoad, when } from './hooks.js';
import { Confirm, Modal } from './modal.js';
import type { ApiKey } from '../../keys/schema.js';

/** A key's limits for people. */
function limitsText(limits: ApiKey['limits']): string {
  const parts: string[] = [];
  if (limits.requests_per_minute !== null) parts.push(`${limits.requests_per_minute}/min`);
  if (limits.max_concurrency !== null) parts.push(`${limits.max_concurrency} at once`);
  if (limits.models !== null) parts.push(limits.models.join(', '));
  return parts.length === 0 ? 'none' : parts.join(' · ');
}

/** The create form's body: empty fields left out, numbers as numbers, models split at commas. */
function createBody(form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const limits: Record<string, unknown> = {};
  for (const name of ['requests_per_minute', 'max_concurrency']) if (text(name) !== '') limits[name] = Number(text(name));
  if (text('models') !== '') limits.models = text('models').split(',').map((m) => m.trim()).filter(Boolean);
  return { name: text('name'), role: text('role'), limits };
}

/** What the browser can tell before asking the server (which validates everything again). */
function localError(form: HTMLFormElement): string {
  const data = new FormData(form);
  if (String(data.get('name') ?? '').trim() === '') return 'Name: a name is required.';
  const labels = { requests_per_minute: 'Requests per minute', max_concurrency: 'Concurrent requests' } as const;
  for (const [name, label] of Object.entries(labels)) {
    const value = String(data.get(name) ?? '').trim();
    if (value !== '' && !(/^\d+$/.test(value) && Number(value) >= 1)) return `${label}: must be a whole number of at least 1.`;
  }
  return '';
}

/** The create dialog: the form, then the secret, shown once. */
function CreateKey({ onDone }: { onDone: (created: boolean) => void }) {
  const [error, setError] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const local = localError(form);
    setError(local);
    if (local !== '') return;
    api<{ secret: string }>('POST', '/v0/keys', createBody(form)).then(
      (created) => setSecret(created.secret),
      (err: unknown) => setError(err instanceof ApiError ? err.details.map((d) => `${d.path}: ${d.message}`).join('; ') || err.message : String(err)),
    );
  };
  if (secret !== null) {
    return (
      <div>
        <h2>Key created</h2>
        <p>Copy the key now: it is shown this once and cannot be read again.</p>
        <input class="secret" aria-label="New key" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
        <div class="buttons">
          <button type="button" class="primary" autofocus onClick={() => onDone(true)}>Done</button>
        </div>
      </div>
    );
  }
  return (
    <form onSubmit={submit} noValidate>
      <h2>Create a key</h2>
      <label class="field"><span>Name</span><input name="name" /></label>
      <label class="field">
        <span>Role</span>
        <select name="role">
          <option value="client">client (inference)</option>
          <option value="viewer">viewer (read the admin API)</option>
          <option value="admin">admin</option>
          <option value="node">node (registration token)</option>
        </select>
      </label>
      <label class="field"><span>Requests per minute</span><input name="requests_per_minute" type="number" /><small>empty: no limit</small></label>
      <label class="field"><span>Concurrent requests</span><input name="max_concurrency" type="number" /><small>empty: no limit</small></label>
      <label class="field"><span>Models</span><input name="models" /><small>comma-separated; empty: every model</small></label>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="buttons">
        <button type="submit" class="primary">Create</button>
        <button type="button" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}

/** One key's row. */
function KeyRow({ k, onRevoke }: { k: ApiKey; onRevoke: (key: ApiKey) => void }) {
  return (
    <tr data-key={k.name}>
      <td><a href={`#/keys/${encodeURIComponent(k.id)}`}>{k.name}</a></td>
      <td data-label="Role">{k.role}</td>
      <td data-label="Key"><code>{k.prefix === null ? 'configured' : `${k.prefix}…`}</code></td>
      <td data-label="State"><Badge value={k.state} /></td>
      <td data-label="Limits">{limitsText(k.limits)}</td>
      <td data-label="Expires">{when(k.expires_at)}</td>
      <td class="actions">
        {k.source === 'config' && <span class="sub">read-only</span>}
        {k.source === 'runtime' && k.state !== 'revoked' && (
          <button type="button" class="danger" onClick={() => onRevoke(k)} aria-label={`Revoke ${k.name}`}>Revoke</button>
        )}
      </td>
    </tr>
  );
}

/** The keys page. */
export function KeysPage() {
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'revoke'; key: ApiKey } | null>(null);
  const [message, setMessage] = useState('');
  const keys = useLoad(() => api<{ keys: ApiKey[] }>('GET', '/v0/keys'), [version]);
  const revoke = (key: ApiKey) => {
    setDialog(null);
    api('DELETE', `/v0/keys/${key.id}`).then(
      () => (setMessage(`${key.name}: revoked`), setVersion((v) => v + 1)),
      (err: unknown) => setMessage(String(err instanceof Error ? err.message : err)),
    );
  };
  return (
    <section aria-labelledby="keys-title">
      <div class="page-head">
        <h1 id="keys-title">Keys</h1>
        <button type="button" class="primary" onClick={() => setDialog({ kind: 'create' })}>Create key</button>
      </div>
      <p class="status-line" role="status" aria-live="polite">{message}</p>
      {keys.error && <p class="error" role="alert">{keys.error}</p>}
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">Name</th><th scope="col">Role</th><th scope="col">Key</th><th scope="col">State</th>
            <th scope="col">Limits</th><th scope="col">Expires</th><th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>{(keys.value?.keys ?? []).map((k) => <KeyRow key={k.id} k={k} onRevoke={(key) => setDialog({ kind: 'revoke', key })} />)}</tbody>
      </table>
      {dialog?.kind === 'create' && (
        <Modal label="Create a key" onClose={() => setDialog(null)}>
          <CreateKey onDone={(created) => (setDialog(null), created && setVersion((v) => v + 1))} />
        </Modal>
      )}
      {dialog?.kind === 'revoke' && (
        <Confirm
          title={`Revoke ${dialog.key.name}?`}
          message="The key stops working at once, on every instance. Revocation is final; its usage stays readable."
          action="Revoke"
          onAnswer={(yes) => (yes ? revoke(dialog.key) : setDialog(null))}
        />
      )}
    </section>
  );
}
