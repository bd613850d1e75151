/**
 * A JSON grammar walk over request text, for what `JSON.parse` does not report: the offset of the
 * first syntax error (V8's messages do not always carry one) and each number token as written,
 * with its path. Iterative with an explicit stack and one pass over the text, so hostile input
 * (100,000 nested `[`, a megabyte of numbers) costs bounded stack and linear time.
 */

/** Where a value sits: object keys and array indexes from the root. */
export type JsonPath = (string | number)[];

/** Called with each number token as written and a function building its path (built only on demand). */
export type NumberVisitor = (token: string, path: () => JsonPath) => void;

interface Frame {
  kind: 'object' | 'array';
  /** The current key (object, decoded only when paths are asked for) or index (array). */
  key: string | number;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

class SyntaxAt extends Error {
  constructor(readonly at: number) {
    super(`JSON syntax error at ${at}`);
  }
}

/**
 * Walks `text` as JSON. Returns the character offset of the first syntax error, or `undefined`
 * when the text is valid JSON. `onNumber` sees every number token (not numbers inside strings).
 */
export function scanJson(text: string, onNumber?: NumberVisitor): number | undefined {
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;
  const fail = (at: number): never => {
    throw new SyntaxAt(Math.min(at, n));
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(i);
      if (c === 0x5c) {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!HEX4.test(text.slice(i + 2, i + 6))) fail(i);
          i += 6;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail(i);
        i += 2;
        continue;
      }
      i++;
    }
    fail(n);
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail(i);
  };
  const path = (): JsonPath => stack.map((f) => f.key);

  /** After `{` and after a `,` in an object: a key, then `:`. */
  const key = (frame: Frame): void => {
    ws();
    if (text[i] !== '"') fail(i);
    const start = i;
    string();
    if (onNumber !== undefined) frame.key = JSON.parse(text.slice(start, i)) as string;
    ws();
    if (text[i] !== ':') fail(i);
    i++;
  };

  try {
    // Each turn reads one value, then closes every container that ends after it.
    for (;;) {
      ws();
      const ch = text[i];
      if (ch === undefined) fail(i);
      if (ch === '{' || ch === '[') {
        i++;
        ws();
        const close = ch === '{' ? '}' : ']';
        if (text[i] !== close) {
          const frame: Frame = { kind: ch === '{' ? 'object' : 'array', key: ch === '{' ? '' : 0 };
          stack.push(frame);
          if (frame.kind === 'object') key(frame);
          continue;
        }
        i++;
      } else if (ch === '"') {
        string();
      } else if (ch === 't') {
        literal('true');
      } else if (ch === 'f') {
        literal('false');
      } else if (ch === 'n') {
        literal('null');
      } else {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (m === null) fail(i);
        const token = (m as RegExpExecArray)[0];
        onNumber?.(token, path);
        i += token.length;
      }
      // A value ended: a separator continues its container, a closer ends it.
      for (;;) {
        ws();
        const top = stack.at(-1);
        if (top === undefined) return i < n ? i : undefined;
        const c = text[i];
        if (c === ',') {
          i++;
          if (top.kind === 'array') top.key = (top.key as number) + 1;
          else key(top);
          break;
        }
        if (c === (top.kind === 'object' ? '}' : ']')) {
          i++;
          stack.pop();
          continue;
        }
        fail(i);
      }
    }
  } catch (err) {
    if (err instanceof SyntaxAt) return err.at;
    throw err;
  }
}

/**
 * The offset of the first JSON syntax error in `text`, as Python's `json` reports it; only
 * called after `JSON.parse` has failed. `text.length` when the text ends too early.
 */
export function jsonErrorOffset(text: string): number {
  return scanJson(text) ?? text.length;
}
