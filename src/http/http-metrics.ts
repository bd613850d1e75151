import type { Metrics } from '../metrics.js';

/** Counts a request and observes its duration, by route template, method and status class. */
export type HttpMetrics = (route: string, method: string, status: number) => { observe: (seconds: number) => void };

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

type Bound = { observe: (seconds: number) => void };

/**
 * The request counter and duration histogram of one route, method and status class, as one
 * `observe`: bound once per triple (bounded: route templates, the methods Node's parser accepts,
 * six classes) and found by route, then method, then class: the route and method are the same
 * string objects request after request, so the lookups hash nothing new, where a key joined per
 * request did.
 */
export function httpMetricsOf(metrics: Metrics): HttpMetrics {
  const cache = new Map<string, Map<string, (Bound | undefined)[]>>();
  return (route, method, status) => {
    const index = Math.floor(status / 100);
    const statusClass = STATUS_CLASS[index] ?? 'other';
    let methods = cache.get(route);
    if (methods === undefined) cache.set(route, (methods = new Map<string, (Bound | undefined)[]>()));
    let classes = methods.get(method);
    if (classes === undefined) methods.set(method, (classes = []));
    const slot = STATUS_CLASS[index] === undefined ? STATUS_CLASS.length : index;
    let bound = classes[slot];
    if (bound === undefined) {
      const counter = metrics.httpRequests.labels(route, method, statusClass);
      const histogram = metrics.httpDuration.labels(route, method, statusClass);
      bound = {
        observe: (seconds) => {
          counter.inc();
          histogram.observe(seconds);
        },
      };
      classes[slot] = bound;
    }
    return bound;
  };
}
