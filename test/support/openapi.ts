import { isRecord } from './kafka-consumer.js';
import { sqliteBackend } from './sqlite-backend.js';
import { startService } from './service.js';

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> };

/** The OpenAPI document the service serves at /openapi.json under the configuration `env`. */
export async function openApiDocument(env: Record<string, string> = {}): Promise<OpenApiDocument> {
  const instance = await sqliteBackend.setup();
  const runtime = await startService(instance, { env });
  try {
    const doc: unknown = await (await fetch(`${runtime.url}/openapi.json`)).json();
    if (!isRecord(doc) || !isRecord(doc.paths)) throw new Error('/openapi.json is not an OpenAPI document');
    return doc as OpenApiDocument;
  } finally {
    await runtime.close();
    await instance.teardown();
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/** `METHOD /path` of every operation of the document, sorted. */
export function operations(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}
