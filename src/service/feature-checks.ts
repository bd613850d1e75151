import { LIMITS } from '../contract/limits.js';
import type { InputProblem } from '../errors.js';

/**
 * Rules on feature values that JSON Schema cannot express (every problem is returned, up to 20): nesting depth, and numbers that
 * would not come back as sent. JSON numbers are IEEE-754 doubles here, so an integer beyond
 * ±(2^53 − 1) (or one written as `1e400`) cannot be stored exactly and is rejected rather than
 * silently rounded.
 *
 * Depth counts containers inside a feature: `{"f": [1]}` has depth 1; `LIMITS.nestingDepth`
 * levels are allowed. Iterative, so hostile nesting cannot overflow the stack.
 */
export function checkFeatureValues(features: Record<string, unknown>): InputProblem[] {
  const issues: InputProblem[] = [];
  // Each node links to its parent; a path is built only for the values that have a problem.
  const stack: Node[] = [];
  for (const name of Object.keys(features)) stack.push({ value: features[name], key: name, parent: undefined, depth: 0 });
  while (stack.length > 0 && issues.length < 20) {
    const node = stack.pop() as Node;
    const { value, depth } = node;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        issues.push(issue(node, 'finite_number', 'Input should be a finite number'));
      } else if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        issues.push(
          issue(node, 'int_unsafe', 'Integer is beyond ±(2^53 - 1) and cannot be stored exactly; send it as a string'),
        );
      }
    } else if (value !== null && typeof value === 'object') {
      if (depth + 1 > LIMITS.nestingDepth) {
        issues.push(issue(node, 'too_deep', `Feature value nesting is deeper than ${LIMITS.nestingDepth} levels`));
        continue;
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) stack.push({ value: value[i], key: i, parent: node, depth: depth + 1 });
      } else {
        const obj = value as Record<string, unknown>;
        for (const k of Object.keys(obj)) stack.push({ value: obj[k], key: k, parent: node, depth: depth + 1 });
      }
    }
  }
  return issues;
}

interface Node {
  value: unknown;
  key: string | number;
  parent: Node | undefined;
  depth: number;
}

function issue(node: Node, type: string, message: string): InputProblem {
  const path: (string | number)[] = [];
  for (let n: Node | undefined = node; n !== undefined; n = n.parent) path.unshift(n.key);
  return { field: 'features', path, type, message };
}
