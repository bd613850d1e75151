import type { ValidationIssue } from '../contract/schemas.js';
import { FeatureStoreError, type InputField, type InputProblem } from '../errors.js';

/**
 * A 422 in FastAPI's shape: the request's problems with `loc` paths into the request. Only the
 * HTTP layer builds these; the service reports `InvalidInputError` with field names, which
 * `issuesOf` places into the request.
 */
export class RequestValidationError extends FeatureStoreError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super('VALIDATION_FAILED', 422, issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.issues = issues;
  }
}

/**
 * Where each service input field sits in a request. Every body route of the API keeps the
 * caller's identity under `meta` and the record's fields under `data`; the paging cursor is a
 * query parameter.
 */
const BODY_LOCATION: Readonly<Record<InputField, readonly string[]>> = {
  source: ['body', 'meta', 'source'],
  compute_id: ['body', 'meta', 'compute_id'],
  event_time: ['body', 'meta', 'event_time'],
  entity_type: ['body', 'data', 'entity_type'],
  entity_value: ['body', 'data', 'entity_value'],
  entity_values: ['body', 'data', 'entity_values'],
  category: ['body', 'data', 'category'],
  features: ['body', 'data', 'features'],
  feature_list: ['body', 'data', 'feature_list'],
  cursor: ['query', 'cursor'],
  as_of: ['query', 'as_of'],
};

/** Where fields sit in a request; `locations` overrides the body locations (e.g. a query parameter). */
export type FieldLocations = Partial<Readonly<Record<InputField, readonly (string | number)[]>>>;

export function issueOf(problem: InputProblem, locations: FieldLocations = {}): ValidationIssue {
  const at = locations[problem.field] ?? BODY_LOCATION[problem.field];
  return { type: problem.type, loc: [...at, ...(problem.path ?? [])], msg: problem.message };
}

export function issuesOf(problems: readonly InputProblem[], locations: FieldLocations = {}): ValidationIssue[] {
  return problems.map((p) => issueOf(p, locations));
}
