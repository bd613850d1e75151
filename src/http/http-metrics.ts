import type { Metrics } from '../metrics.js';

/** Counts a request and observes its duration, by route template, method and status class. */
export type HttpMetrics = (route: string, method: string, status: number) => { observe: (seconds: number) => void };

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * The request counter and duration histogram of one route, method and status class, as one
 * `observe`: one cache lookup per request for the pair instead of one per metric (bounded:
 * route templates, the methods Node's parser accepts, six classes).
 */
export function httpMetricsOf(metrics: Metrics): HttpMetrics {
  const cache = new Map<string, { observe: (seconds: number) => void }>();
  return (route, method, status) => {
    const statusClass = STATUS_CLASS[Math.floor(status / 100)] ?? 'other';
    const key = `${method} ${statusClass} ${route}`;
    let bound = cache.get(key);
    if (bound === undefined) {
      const counter = metrics.httpRequests.labels(route, method, statusClass);
      const histogram = metrics.httpDuration.labels(route, method, statusClass);
      bound = {
        observe: (seconds) => {
          counter.inc();
          histogram.observe(seconds);
        },
      };
      cache.set(key, bound);
    }
    return bound;
  };
}
