import type { FeatureEvent } from '../model.js';

/**
 * The JSON text an outbox store read an event from (`claim`), keyed by the event object it
 * parsed from it: a publisher sends that text instead of serializing the object again. It is the
 * object's own `JSON.stringify`, stored at the write, so the bytes are the same. Weak: an event
 * no longer referenced takes its text with it.
 */
const texts = new WeakMap<FeatureEvent, string>();

/** Records that `event` was parsed from `json`. */
export function rememberEventJson(event: FeatureEvent, json: string): void {
  texts.set(event, json);
}

/** `event` as JSON: the text it was read from, if known, else serialized now. */
export function eventJson(event: FeatureEvent): string {
  return texts.get(event) ?? JSON.stringify(event);
}
