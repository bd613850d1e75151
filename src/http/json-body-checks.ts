import type { ValidationIssue } from '../contract/schemas.js';
import { scanJson, type JsonPath } from './json-scanner.js';

/**
 * Checks on a parsed request body that need its raw text or cannot be said in JSON Schema: no
 * string (key or value, at any depth) may hold an unpaired UTF-16 surrogate, and no number may
 * underflow to zero. Each starts with one cheap test of the raw text that every ordinary body
 * passes, and only then walks, so the common path costs one or two regex scans.
 */

const MAX_ISSUES = 20;

/**
 * Body text arrives decoded from UTF-8 (invalid bytes become U+FFFD), so a lone surrogate can
 * only come from a `\uD800`–`\uDFFF` escape. Escaped pairs (emoji from Python's `json.dumps`)
 * also match; the walk then tells them apart.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A code point in Unicode's surrogate category: only an unpaired half matches in `u` mode. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Strings that would not survive a store: SQLite writes them as invalid UTF-8 and DynamoDB maps
 * them to U+FFFD, so two distinct keys could land on one item.
 */
export function unpairedSurrogateIssues(text: string, body: unknown): ValidationIssue[] {
  if (!SURROGATE_ESCAPE.test(text)) return [];
  const issues: ValidationIssue[] = [];
  const add = (path: JsonPath): void => {
    issues.push({
      type: 'string_unicode',
      loc: ['body', ...path],
      msg: 'Input should be a valid string, unable to parse raw data as a unicode string',
    });
  };
  const stack: { value: unknown; path: JsonPath }[] = [{ value: body, path: [] }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const { value, path } = stack.pop() as { value: unknown; path: JsonPath };
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) add(path);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, v] = entries[i] as [string, unknown];
        if (LONE_SURROGATE.test(key)) add([...path, key]);
        else stack.push({ value: v, path: [...path, key] });
      }
    }
  }
  return issues;
}

const ZEROS = '0'.repeat(100);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Whether `text` may hold a number that underflows to zero: every such number is written either
 * with a negative exponent of at least three digits (`e-400`) or with a run of zeros (about 320
 * of them), so ordinary bodies are never walked. Plain string searches: a fraction of the cost
 * of `JSON.parse` on the same text.
 */
function mayUnderflow(text: string): boolean {
  for (let i = text.indexOf('-'); i !== -1; i = text.indexOf('-', i + 1)) {
    const e = text.charCodeAt(i - 1);
    if ((e === 0x65 || e === 0x45) && isDigit(text.charCodeAt(i + 1)) && isDigit(text.charCodeAt(i + 2)) && isDigit(text.charCodeAt(i + 3))) {
      return true;
    }
  }
  return text.includes(ZEROS);
}

/**
 * Numbers that are not zero as written but parse to ±0 (`1e-400`): stored, they would come back
 * as `0`, so they are refused as `1e400` (parsed to Infinity) is. `0`, `0.0`, `-0`, `0e5` are
 * zero as written and pass.
 */
export function underflowIssues(text: string): ValidationIssue[] {
  if (!mayUnderflow(text)) return [];
  const issues: ValidationIssue[] = [];
  scanJson(text, (token, path) => {
    if (issues.length >= MAX_ISSUES || Number(token) !== 0) return;
    const mantissa = token.split(/[eE]/)[0] as string;
    if (!/[1-9]/.test(mantissa)) return;
    issues.push({
      type: 'number_underflow',
      loc: ['body', ...path()],
      msg: 'Number is too small to be stored as a double (it would become 0); send it as a string',
    });
  });
  return issues;
}
