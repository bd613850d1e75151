/**
 * Calls to the service's API with the session's key. The key is kept in sessionStorage (this
 * tab, until it closes) and sent as `Authorization: Bearer <key>`, as src/http/access.ts expects.
 */
const KEY = 'feature-store.api-key';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) ?? '',
  set: (value) => (value === '' ? sessionStorage.removeItem(KEY) : sessionStorage.setItem(KEY, value)),
};

/** A refused or failed call: the HTTP status (0 when nothing answered), `code` and `detail`. */
export class ApiError extends Error {
  constructor(status, code, detail, retryAfter) {
    super(detailText(detail));
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** `detail` is a string, or (422) a list of problems each with `loc` and `msg`. */
function detailText(detail) {
  if (Array.isArray(detail)) return detail.map((p) => `${(p.loc ?? []).join('.')}: ${p.msg}`).join('; ');
  return String(detail);
}

/** GET `path`, or POST `body` as JSON; resolves with the parsed answer, rejects with ApiError. */
export async function api(path, body) {
  const headers = { accept: 'application/json' };
  const key = apiKey.get();
  if (key !== '') headers.authorization = `Bearer ${key}`;
  const init = { method: 'GET', headers, cache: 'no-store' };
  if (body !== undefined) {
    init.method = 'POST';
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The service did not answer (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const detail = json?.detail ?? (text.trim() || res.statusText);
    throw new ApiError(res.status, json?.code ?? '', detail, res.headers.get('retry-after'));
  }
  return json;
}

export const enc = encodeURIComponent;
