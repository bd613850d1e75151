import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CsvParser } from './csv.js';
import { csvColumns, RecordError, recordFromCsv, recordFromJson, type BulkRecord, type CsvColumns } from './records.js';

/** One input record: where it starts, its original text (for the rejects file) and what it holds. */
export interface SourceItem {
  /** Its line number in the input (1-based). */
  line: number;
  /** The JSONL line, or the CSV row's fields. */
  input: string | string[];
  /** The record, or why the text is not one. */
  result: BulkRecord | RecordError;
}

export type Format = 'jsonl' | 'csv';

/**
 * The records of `input` one at a time, read as they are consumed (the stream's own
 * backpressure: only one chunk is held beyond the records in flight). Blank JSONL lines are
 * skipped; CSV's first row is the header (a bad header throws `RecordError`).
 */
export async function* readRecords(input: Readable, format: Format, onBytes: (n: number) => void): AsyncGenerator<SourceItem> {
  const decoder = new StringDecoder('utf8');
  if (format === 'jsonl') {
    let rest = '';
    let line = 0;
    const items = (text: string): SourceItem[] =>
      text
        .split('\n')
        .map((raw) => ({ raw: raw.endsWith('\r') ? raw.slice(0, -1) : raw, line: ++line }))
        .filter(({ raw }) => raw.trim() !== '')
        .map(({ raw, line: at }) => ({ line: at, input: raw, result: parseOr(() => recordFromJson(raw)) }));
    for await (const chunk of input as AsyncIterable<Buffer>) {
      onBytes(chunk.length);
      const text = rest + decoder.write(chunk);
      const cut = text.lastIndexOf('\n');
      rest = cut === -1 ? text : text.slice(cut + 1);
      if (cut !== -1) yield* items(text.slice(0, cut));
    }
    rest += decoder.end();
    if (rest !== '') yield* items(rest);
    return;
  }
  const parser = new CsvParser();
  let columns: CsvColumns | undefined;
  const rows = function* (records: ReturnType<CsvParser['push']>): Generator<SourceItem> {
    for (const row of records) {
      if (columns === undefined) {
        columns = csvColumns(row);
        continue;
      }
      const cols = columns;
      yield { line: row.line, input: row.fields, result: parseOr(() => recordFromCsv(row, cols)) };
    }
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    onBytes(chunk.length);
    yield* rows(parser.push(decoder.write(chunk)));
  }
  yield* rows([...parser.push(decoder.end()), ...parser.end()]);
  if (columns === undefined) throw new RecordError('header: the input is empty');
}

function parseOr(parse: () => BulkRecord): BulkRecord | RecordError {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RecordError) return err;
    throw err;
  }
}
