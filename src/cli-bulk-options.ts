import { UsageError } from './cli-keys.js';

/** What `import` and `export` share: where the service is and how to authenticate. */
export const SERVICE_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
} as const;

export const SERVICE_HELP = `    --url URL            The service (default $FEATURE_STORE_URL, else http://127.0.0.1:8015)
    --api-key KEY        An API key (default $FEATURE_STORE_API_KEY; the variable keeps it out
                         of the process list)`;

export function serviceOf(values: { url?: string | undefined; 'api-key'?: string | undefined }, env: NodeJS.ProcessEnv): { baseUrl: string; apiKey: string | undefined } {
  const baseUrl = values.url ?? env.FEATURE_STORE_URL ?? 'http://127.0.0.1:8015';
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`--url: '${baseUrl}' is not a URL`);
  }
  const apiKey = values['api-key'] ?? (env.FEATURE_STORE_API_KEY === '' ? undefined : env.FEATURE_STORE_API_KEY);
  return { baseUrl, apiKey };
}

/** An integer option from `min` to `max`, or `fallback` when absent. */
export function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}
