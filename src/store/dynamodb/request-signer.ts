import { createHash, createHmac } from 'node:crypto';

/**
 * SigV4 for the record path's requests (direct-transport.ts), with the SDK signer's key.
 *
 * The SDK's `SignatureV4.sign` per request: clones the request, formats the date, reads the
 * credentials, hashes the payload and the canonical request through the SDK's hash wrappers
 * (each a node `Hash` plus conversions to and from `Uint8Array` and hex), and computes one HMAC
 * of the credentials just to look its signing key up in its cache, before the HMAC of the
 * signature. The record path's requests all have the same shape (`POST`, one path, the same
 * headers but for length, date, payload hash and session token), so this signs them in fewer
 * steps, with the same result:
 *
 * - **the key**: the SDK signer's own derivation (`getSigningKey`, from the credentials the
 *   client's provider returns), asked once per credentials object, day, region and service
 *   (a refreshed credentials object is a new one, so it gets its own key);
 * - **per request**: the payload's SHA-256, the canonical request's SHA-256 and the signature's
 *   HMAC, each one node `crypto` call; the headers that do not change per route are put in
 *   canonical form once (`SigningRoute`), by the SDK's own `getCanonicalHeaders`.
 *
 * What is signed is what the SDK signs: `x-amz-date`, `x-amz-security-token` with temporary
 * credentials, `x-amz-content-sha256` when the signer applies it (its `applyChecksum`, on for
 * DynamoDB), and every other request header. `test/store/dynamodb-direct-transport.test.ts`
 * and `dynamodb-request-signer.test.ts` compare the `Authorization` with the SDK signer's.
 */

/** The members of the SDK's `SignatureV4` used here (checked when a route is made). */
export interface SdkSigner {
  applyChecksum: boolean;
  getSigningKey(credentials: Credentials, region: string, shortDate: string, service: string): Promise<Uint8Array>;
  getCanonicalPath(request: { path: string }): string;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** `getCanonicalHeaders` of `@smithy/signature-v4`: the headers the signer signs, names lower-cased, values trimmed. */
export type CanonicalHeaders = (request: { headers: Record<string, string> }) => Record<string, string>;

/** A header of the canonical request: a route's value, or the index of a per-request one (`PER_REQUEST`). */
type Slot = [name: string, value: string | number];

/** The canonical headers in order, and the signed header list, for requests with or without a session token. */
interface Layout {
  slots: Slot[];
  names: string;
}

/** One route's fixed part of the signing: its path, and its headers that do not change per request. */
export interface SigningRoute {
  signer: SdkSigner;
  region: string;
  service: string;
  canonicalPath: string;
  /** The headers sent as they are (endpoint headers, content type, target, host). */
  headers: Record<string, string>;
  withToken: Layout;
  withoutToken: Layout;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The headers set per request, in the order of their values in `signHeaders`. */
const PER_REQUEST = ['content-length', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'] as const;

export function signingRoute(
  signer: SdkSigner,
  canonicalHeaders: CanonicalHeaders,
  path: string,
  headers: Record<string, string>,
  region: string,
  service: string,
): SigningRoute {
  for (const member of ['getSigningKey', 'getCanonicalPath'] as const) {
    if (typeof signer[member] !== 'function') throw new Error(`@aws-sdk/client-dynamodb: its SigV4 signer has no ${member} (an unsupported SDK version)`);
  }
  // The headers added per request replace any of the same name (as the SDK signer sets them over the request's).
  const fixed: Slot[] = Object.entries(canonicalHeaders({ headers })).filter(([name]) => !(PER_REQUEST as readonly string[]).includes(name));
  const layout = (token: boolean): Layout => {
    const slots = fixed.concat(
      PER_REQUEST.map((name, i): Slot => [name, i]).filter(([name]) => (name !== 'x-amz-security-token' || token) && (name !== 'x-amz-content-sha256' || signer.applyChecksum)),
    );
    slots.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { slots, names: slots.map(([name]) => name).join(';') };
  };
  return {
    signer,
    region,
    service,
    canonicalPath: signer.getCanonicalPath({ path }),
    headers,
    withToken: layout(true),
    withoutToken: layout(false),
  };
}

interface KeyEntry {
  credentials: Credentials;
  scope: string;
  key: Promise<Uint8Array>;
}

/** Signing keys by route signer, for the last credentials and scope each was asked for. */
const keys = new WeakMap<SdkSigner, KeyEntry>();

function signingKey(route: SigningRoute, credentials: Credentials, shortDate: string): { scope: string; key: Promise<Uint8Array> } {
  const scope = `${shortDate}/${route.region}/${route.service}/aws4_request`;
  const entry = keys.get(route.signer);
  if (entry !== undefined && entry.credentials === credentials && entry.scope === scope) return entry;
  const key = route.signer.getSigningKey(credentials, route.region, shortDate, route.service);
  const fresh = { credentials, scope, key };
  keys.set(route.signer, fresh);
  key.catch(() => {
    if (keys.get(route.signer) === fresh) keys.delete(route.signer);
  });
  return fresh;
}

/** `YYYYMMDDTHHMMSSZ`, as the SDK signer formats the signing date (from `toISOString`, without the milliseconds). */
function amzDate(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * The request's headers with `x-amz-date`, the session token, the payload hash and
 * `Authorization` added: what the SDK signer's `sign` returns for the same request and date.
 */
export async function signHeaders(route: SigningRoute, credentials: Credentials, body: string, contentLength: number, date: Date): Promise<Record<string, string>> {
  if (typeof credentials.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string') {
    throw new Error('Resolved credential object is not valid');
  }
  const longDate = amzDate(date);
  const { scope, key } = signingKey(route, credentials, longDate.slice(0, 8));
  const payloadHash = createHash('sha256').update(body, 'utf8').digest('hex');
  const token = credentials.sessionToken;
  const values = [String(contentLength), longDate, token ?? '', payloadHash];
  const headers: Record<string, string> = { ...route.headers, 'content-length': values[0] as string, 'x-amz-date': longDate };
  if (token) headers['x-amz-security-token'] = token;
  if (route.signer.applyChecksum) headers['x-amz-content-sha256'] = payloadHash;
  const layout = token ? route.withToken : route.withoutToken;
  let lines = '';
  for (const [name, value] of layout.slots) lines += `${name}:${typeof value === 'number' ? values[value] : value}\n`;
  const canonicalRequest = `POST\n${route.canonicalPath}\n\n${lines}\n${layout.names}\n${payloadHash}`;
  const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
  const signature = createHmac('sha256', await key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${layout.names}, Signature=${signature}`;
  return headers;
}
