import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { FeatureStoreError } from '../errors.js';

/** Length of one measuring window; a delay is remembered for one to two windows. */
const WINDOW_MS = 1000;
/** Histogram sampling interval: delays shorter than this are not seen. */
const RESOLUTION_MS = 10;

/**
 * Sheds load instead of queueing it: while the event loop has lagged more than `maxDelayMs` in
 * the current or the previous one-second window, feature requests (`/api/*` except health) are
 * refused at once with 503 `SERVICE_OVERLOADED` and `Retry-After: 1`. A lagging loop means
 * every queued request already waits that long; answering fast lets clients back off or go to
 * another instance. Health and metrics stay served so operators see the state.
 * `maxDelayMs` 0 turns the guard off. Returns whether feature requests are being refused now
 * (the hot read path leaves those to the hook).
 */
export function registerOverloadGuard(app: FastifyInstance, maxDelayMs: number): () => boolean {
  if (maxDelayMs <= 0) return () => false;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let previousMaxMs = 0;
  const window = setInterval(() => {
    previousMaxMs = histogram.max / 1e6;
    histogram.reset();
  }, WINDOW_MS);
  window.unref();
  // The histogram reports timer lateness plus its own interval.
  const lagMs = (): number => Math.max(previousMaxMs, histogram.max / 1e6) - RESOLUTION_MS;
  const overloaded = (): boolean => lagMs() > maxDelayMs;

  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.startsWith('/api/') && !request.url.startsWith('/api/v1/health') && overloaded()) {
      done(
        new FeatureStoreError('SERVICE_OVERLOADED', 503, 'The service is overloaded, retry later', { retryAfterSeconds: 1 }),
      );
      return;
    }
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(window);
    histogram.disable();
    done();
  });
  return overloaded;
}
