/** Upstream base URLs as llmlb stores them: one normal form, and a clear word for the usual mistakes. */

/**
 * Normalises an upstream base URL: http(s) only, no credentials, query or fragment, no trailing
 * slash, and a trailing `/v1` segment dropped (llmlb appends `/v1/...` itself). A URL that ends
 * in an API path (`/v1/chat/completions`, `/api/tags`, …) is rejected with the base URL to give
 * instead. Returns the normalised URL or a message saying what is wrong.
 */
export function normalizeBaseUrl(input: string): { ok: true; url: string } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { ok: false, message: 'must be a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: 'must use http or https' };
  }
  if (url.hostname === '') return { ok: false, message: 'must have a host' };
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'must not contain credentials; use api_key instead' };
  }
  if (url.search !== '' || input.includes('?')) return { ok: false, message: 'must not contain a query string' };
  if (url.hash !== '' || input.includes('#')) return { ok: false, message: 'must not contain a fragment' };
  const origin = `${url.protocol}//${url.host}`;
  const path = url.pathname.replace(/\/+$/, '');
  // An API route (OpenAI-style, with or without /v1, or Ollama's own) where the base should end.
  const api =
    /\/(?:v1\/(?:chat\/completions|completions|embeddings|models|responses)|chat\/completions|api\/(?:tags|chat|generate|embed|embeddings|version|ps|show))$/.exec(
      path,
    );
  if (api) {
    const base = path.slice(0, api.index).replace(/\/v1$/, '');
    return { ok: false, message: `must be the server's base URL, not an API path: use ${origin}${base}` };
  }
  return { ok: true, url: `${origin}${path.replace(/\/v1$/, '')}` };
}
