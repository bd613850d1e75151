import { compileComputeIdPattern, type LineageConfig } from '../config.js';
import { LIMITS } from '../contract/limits.js';
import type { InputProblem } from '../errors.js';
import { parseRfc3339 } from '../timestamps.js';

/**
 * Rules on a write's `meta` beyond its schema: `compute_id` (length, `COMPUTE_ID_PATTERN`,
 * `COMPUTE_ID_REQUIRED`) and `event_time` (RFC 3339 with an offset). Each check takes the
 * value as sent and reports only what the schema cannot: a value of the wrong JSON type is the
 * schema's problem and is skipped here, so one 422 never lists a field twice.
 */
export type ComputeIdCheck = (value: unknown) => InputProblem | undefined;

export function computeIdRule(config: LineageConfig): ComputeIdCheck {
  const pattern = config.computeIdPattern === undefined ? undefined : compileComputeIdPattern(config.computeIdPattern);
  return (value) => {
    if (value === undefined) return config.computeIdRequired ? { field: 'compute_id', type: 'missing', message: 'Field required' } : undefined;
    if (value === null) {
      return config.computeIdRequired ? { field: 'compute_id', type: 'string_type', message: 'Input should be a valid string' } : undefined;
    }
    if (typeof value !== 'string') return undefined;
    // Characters as JavaScript counts them (UTF-16 code units), like the schema's maxLength.
    if (value.length > LIMITS.computeIdLength) {
      return { field: 'compute_id', type: 'string_too_long', message: `String should have at most ${LIMITS.computeIdLength} characters` };
    }
    if (pattern !== undefined && !pattern.test(value)) {
      return { field: 'compute_id', type: 'string_pattern_mismatch', message: `String should match pattern '${config.computeIdPattern ?? ''}'` };
    }
    return undefined;
  };
}

const EVENT_TIME_MESSAGE =
  'Input should be a valid datetime: RFC 3339 with a time zone offset, e.g. 2025-10-16T12:00:00+02:00 or 2025-10-16T10:00:00.000Z';

/** `event_time` as sent → its canonical form, or the problem. Undefined and null mean "not given". */
export function parseEventTime(value: unknown): { eventTime: string | undefined } | { problem: InputProblem } {
  if (value === undefined || value === null) return { eventTime: undefined };
  const eventTime = typeof value === 'string' ? parseRfc3339(value) : undefined;
  if (eventTime === undefined) return { problem: { field: 'event_time', type: 'datetime_parsing', message: EVENT_TIME_MESSAGE } };
  return { eventTime };
}

/** The `event_time` check alone (for a body that failed its schema): only strings are checked here. */
export function checkEventTime(value: unknown): InputProblem | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseEventTime(value);
  return 'problem' in parsed ? parsed.problem : undefined;
}
