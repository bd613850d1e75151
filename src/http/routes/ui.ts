import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { DEFAULT_ENTITY_TYPE } from './items.js';

/**
 * The web UI (`/ui/`, README "Web UI"): plain HTML, CSS and ES modules from the repository's
 * `ui/` folder, served as they are (no build step). The files hold neither data nor
 * configuration, so they are open whatever `DOCS_ACCESS` says; every call that returns data is
 * an ordinary API call the page makes with the user's key. The one thing the page needs from the
 * server beyond the API is the configured entity types and categories (`/ui/config.json`): it
 * takes the `read` scope and lists only the categories the caller's key may read, since
 * `/openapi.json` follows `DOCS_ACCESS` (admin by default once keys are on).
 *
 * Files are read once at start (a few KB), each with a strong ETag; browsers revalidate
 * (`no-cache`) and get 304. A strict Content-Security-Policy allows only the page's own
 * scripts, styles and API calls: no inline script, no eval, no third-party origin.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The `ui/` folder: next to `src/` in the repository, and two levels further up from
 * `dist/src/http/routes/` in a build, so it is found from the sources (tsx) and from `dist/`.
 */
export function uiDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'ui', 'index.html'))) return join(dir, 'ui');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the web UI files (ui/index.html) were not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Every servable file of the folder (flat: names only, so a path can never leave it). */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

function uiHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CSP)
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  uiHeaders(reply).header('etag', asset.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/** The web UI's files and its configuration document; none of these appear in OpenAPI. */
export const uiRoutes: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  const assets = loadAssets(uiDirectory());
  const index = assets.get('index.html') as Asset;
  const hidden = { hide: true };

  // `/ui` and `/ui/` are one route (ignoreTrailingSlash); the page names its files absolutely.
  app.get('/ui/', { config: { access: 'open' }, schema: hidden }, async (request, reply) => send(request, reply, index));

  app.get<{ Params: { file: string } }>('/ui/:file', { config: { access: 'open' }, schema: hidden }, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (asset === undefined) return reply.code(404).send({ detail: 'Not Found', code: 'ROUTE_NOT_FOUND' });
    return send(request, reply, asset);
  });

  // The allow-lists the page offers: entity types, and the categories this caller may read.
  app.get('/ui/config.json', { config: { access: 'read' }, schema: hidden }, async (request, reply) => {
    const limited = request.apiKey?.categories;
    const categories = limited === undefined ? config.categories : config.categories.filter((c) => limited.includes(c));
    uiHeaders(reply).header('cache-control', 'no-store');
    return { entity_types: Object.keys(config.entityTables), default_entity_type: DEFAULT_ENTITY_TYPE, categories };
  });
};
