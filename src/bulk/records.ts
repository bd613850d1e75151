import type { CsvRecord } from './csv.js';

/**
 * The bulk line format, shared by `import` and `export` (so `export | import` round-trips):
 *   {"entity_type": "bright_uid", "entity_value": "user-1", "category": "d0_unauth_features",
 *    "features": {…}, "compute_id": "job-7", "event_time": "2025-10-16T10:00:00.000Z"}
 * `compute_id` and `event_time` are optional (null or absent: none).
 */
export interface BulkRecord {
  entity_type: string;
  entity_value: string;
  category: string;
  features: Record<string, unknown>;
  compute_id?: string | null;
  event_time?: string | null;
}

/** A record that cannot be sent: the reason goes to the rejects file. */
export class RecordError extends Error {}

const RECORD_FIELDS = ['entity_type', 'entity_value', 'category'] as const;
const OPTIONAL_FIELDS = ['compute_id', 'event_time'] as const;
const KNOWN = new Set<string>([...RECORD_FIELDS, ...OPTIONAL_FIELDS, 'features']);

/** One JSONL line as a record; throws `RecordError` with the reason when it is not one. */
export function recordFromJson(text: string): BulkRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RecordError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordError('not a JSON object');
  const obj = value as Record<string, unknown>;
  for (const name of RECORD_FIELDS) {
    if (typeof obj[name] !== 'string') throw new RecordError(`"${name}" must be a string`);
  }
  if (typeof obj.features !== 'object' || obj.features === null || Array.isArray(obj.features)) {
    throw new RecordError('"features" must be an object');
  }
  for (const name of OPTIONAL_FIELDS) {
    if (obj[name] !== undefined && obj[name] !== null && typeof obj[name] !== 'string') throw new RecordError(`"${name}" must be a string or null`);
  }
  const unknown = Object.keys(obj).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new RecordError(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  return obj as unknown as BulkRecord;
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A feature cell of a CSV row, typed (README "Bulk import and export"): `null`, `true`,
 * `false`, a JSON number, a JSON object or array (starts with `{` or `[`), or a JSON string
 * (starts with `"`, e.g. `"42"` for the text 42) are those JSON values; anything else is the
 * text itself. An empty unquoted cell leaves the feature out of that record; a quoted empty
 * cell (`""`) is the empty string.
 */
export function cellValue(cell: string, quoted: boolean): { value: unknown } | undefined {
  if (cell === '') return quoted ? { value: '' } : undefined;
  if (cell === 'null') return { value: null };
  if (cell === 'true') return { value: true };
  if (cell === 'false') return { value: false };
  if (JSON_NUMBER.test(cell)) return { value: Number(cell) };
  const first = cell[0];
  if (first === '{' || first === '[' || first === '"') {
    try {
      return { value: JSON.parse(cell) as unknown };
    } catch (err) {
      throw new RecordError(`a cell starting with ${first} must be JSON: ${(err as Error).message}`);
    }
  }
  return { value: cell };
}

/** Where each column of a CSV file goes, from its header row. */
export interface CsvColumns {
  names: string[];
  /** Index of each record field's column; compute_id and event_time may be missing. */
  index: Partial<Record<(typeof RECORD_FIELDS)[number] | (typeof OPTIONAL_FIELDS)[number], number>>;
  /** Every other column: a feature named by its header. */
  features: { name: string; at: number }[];
}

/** Reads the header row; throws `RecordError` when a required column is missing or a name repeats. */
export function csvColumns(header: CsvRecord): CsvColumns {
  if (header.error !== undefined) throw new RecordError(`header: ${header.error}`);
  const seen = new Set<string>();
  const columns: CsvColumns = { names: header.fields, index: {}, features: [] };
  header.fields.forEach((name, at) => {
    if (name === '') throw new RecordError(`header: column ${at + 1} has no name`);
    if (seen.has(name)) throw new RecordError(`header: column "${name}" appears twice`);
    seen.add(name);
    if ((RECORD_FIELDS as readonly string[]).includes(name) || (OPTIONAL_FIELDS as readonly string[]).includes(name)) {
      columns.index[name as keyof CsvColumns['index']] = at;
    } else {
      columns.features.push({ name, at });
    }
  });
  for (const name of RECORD_FIELDS) if (columns.index[name] === undefined) throw new RecordError(`header: the column "${name}" is missing`);
  if (columns.features.length === 0) throw new RecordError('header: no feature columns');
  return columns;
}

/** One CSV row as a record, by the header's columns. */
export function recordFromCsv(row: CsvRecord, columns: CsvColumns): BulkRecord {
  if (row.error !== undefined) throw new RecordError(row.error);
  if (row.fields.length !== columns.names.length) {
    throw new RecordError(`${row.fields.length} fields, the header has ${columns.names.length}`);
  }
  const text = (name: keyof CsvColumns['index']): string | undefined => {
    const at = columns.index[name];
    return at === undefined ? undefined : row.fields[at];
  };
  const features: Record<string, unknown> = {};
  for (const { name, at } of columns.features) {
    const cell = cellValue(row.fields[at] as string, row.quoted[at] === true);
    if (cell !== undefined) features[name] = cell.value;
  }
  const record: BulkRecord = {
    entity_type: text('entity_type') as string,
    entity_value: text('entity_value') as string,
    category: text('category') as string,
    features,
  };
  const computeId = text('compute_id');
  if (computeId !== undefined && computeId !== '') record.compute_id = computeId;
  const eventTime = text('event_time');
  if (eventTime !== undefined && eventTime !== '') record.event_time = eventTime;
  return record;
}
