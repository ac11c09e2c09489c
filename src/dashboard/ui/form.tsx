/**
 * The endpoint form, for registering and editing: the API validates, and its messages are shown
 * at the fields they concern.
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { Endpoint } from './live.js';

interface FormProps {
  /** The endpoint to edit; absent to register a new one. */
  endpoint?: Endpoint;
  onDone: (endpoint: Endpoint | null) => void;
}

type Fields = Record<'name' | 'base_url' | 'api_key' | 'health_check_interval_secs' | 'inference_timeout_secs' | 'notes', string>;

/**
 * The checks the browser can make before asking the server (which validates everything again):
 * a mistake is shown at once, without a round trip.
 */
function localErrors(fields: Fields, editing: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  if (fields.name.trim() === '') errors.name = 'A name is required.';
  if (!editing && !/^https?:\/\/[^\s/]+/i.test(fields.base_url.trim())) errors.base_url = 'Must be an http(s) URL, e.g. http://10.0.0.5:11434';
  const ranges = { health_check_interval_secs: [10, 300], inference_timeout_secs: [10, 600] } as const;
  for (const [key, [min, max]] of Object.entries(ranges) as [keyof typeof ranges, readonly [number, number]][]) {
    const value = fields[key];
    if (value !== '' && !(/^\d+$/.test(value) && Number(value) >= min && Number(value) <= max)) errors[key] = `Must be a whole number from ${min} to ${max}.`;
  }
  return errors;
}

/** The request body for the form's fields: numbers as numbers, empty optional fields left out. */
function bodyOf(fields: Fields, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { name: fields.name };
  if (!editing) body.base_url = fields.base_url;
  if (fields.api_key !== '') body.api_key = fields.api_key;
  for (const key of ['health_check_interval_secs', 'inference_timeout_secs'] as const) {
    if (fields[key] !== '') body[key] = /^\d+$/.test(fields[key]) ? Number(fields[key]) : fields[key];
  }
  if (fields.notes !== '' || editing) body.notes = fields.notes === '' ? null : fields.notes;
  return body;
}

interface FieldProps {
  id: keyof Fields;
  label: string;
  fields: Fields;
  errors: Record<string, string>;
  set: (id: keyof Fields, value: string) => void;
  type?: 'text' | 'url' | 'password' | 'number';
  disabled?: boolean;
  hint?: string;
}

/** One labelled input with its error message. */
function Field({ id, label, fields, errors, set, type = 'text', disabled = false, hint }: FieldProps) {
  const error = errors[id];
  return (
    <label class="field">
      <span>{label}</span>
      <input
        name={id}
        type={type as 'text'}
        value={fields[id]}
        disabled={disabled}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onInput={(e) => set(id, (e.currentTarget as HTMLInputElement).value)}
      />
      {hint && <small>{hint}</small>}
      {error && (
        <small class="error" id={`${id}-error`}>
          {error}
        </small>
      )}
    </label>
  );
}

/**
 * The form; `onDone` receives the saved endpoint, or null when cancelled.
 *
 * @example
 * <EndpointForm onDone={(e) => close()} />
 */
export function EndpointForm({ endpoint, onDone }: FormProps) {
  const editing = endpoint !== undefined;
  const [fields, setFields] = useState<Fields>({
    name: endpoint?.name ?? '',
    base_url: endpoint?.base_url ?? '',
    api_key: '',
    health_check_interval_secs: String(endpoint?.health_check_interval_secs ?? ''),
    inference_timeout_secs: String(endpoint?.inference_timeout_secs ?? ''),
    notes: endpoint?.notes ?? '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const set = (id: keyof Fields, value: string) => setFields({ ...fields, [id]: value });

  const submit = async (event: Event) => {
    event.preventDefault();
    const local = localErrors(fields, editing);
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const saved = editing
        ? await api<Endpoint>('PUT', `/v0/endpoints/${endpoint.id}`, bodyOf(fields, true))
        : await api<Endpoint>('POST', '/v0/endpoints', bodyOf(fields, false));
      onDone(saved);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const byField: Record<string, string> = {};
      for (const issue of err.details) byField[issue.path.split('.')[0] ?? 'form'] ??= issue.message;
      if (err.code === 'conflict') byField[/url/i.test(err.message) ? 'base_url' : 'name'] = err.message;
      if (Object.keys(byField).length === 0) byField.form = err.message;
      setErrors(byField);
    } finally {
      setBusy(false);
    }
  };

  const common = { fields, errors, set };
  return (
    <form class="endpoint-form" onSubmit={submit} noValidate>
      <h2>{editing ? `Edit ${endpoint.name}` : 'Register an endpoint'}</h2>
      <Field id="name" label="Name" {...common} />
      <Field id="base_url" label="Base URL" {...common} type="url" disabled={editing} hint={editing ? 'A base URL cannot change: delete and register again.' : 'e.g. http://10.0.0.5:11434'} />
      <Field id="api_key" label={editing ? 'New API key (leave empty to keep)' : 'API key (optional)'} {...common} type="password" />
      <Field id="health_check_interval_secs" label="Check interval (s)" {...common} type="number" hint="10–300, default 30" />
      <Field id="inference_timeout_secs" label="Inference timeout (s)" {...common} type="number" hint="10–600, default 120" />
      <Field id="notes" label="Notes" {...common} />
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {editing ? 'Save' : 'Register'}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
