/**
 * A streaming RFC 4180 parser: fields separated by `,`, records by CRLF or LF (a lone CR too);
 * a field in double quotes may hold commas, line breaks and `""` (one quote). Text is fed in
 * chunks of any size (a record may span chunks); complete records come out with the line number
 * they start on (1-based, counting the header). A quote inside an unquoted field, or text after a
 * closing quote, is an error of that record, reported with its line and the parser goes on with
 * the next record.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
  /** Set when the record is malformed; `fields` is then what was read of it. */
  error?: string;
  /** Per field: whether it was quoted (a quoted empty field is an empty string, not a blank). */
  quoted: boolean[];
}

export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private quoted: boolean[] = [];
  private inQuotes = false;
  /** The previous character closed a quoted field (or was the first of a `""` pair). */
  private afterQuote = false;
  private fieldQuoted = false;
  private error: string | undefined;
  private line = 1;
  private recordLine = 1;
  private pendingCr = false;
  /** The previous character was a CR inside a quoted field. */
  private quotedCr = false;
  /** Whether the current record has any character yet (a blank line is no record). */
  private started = false;

  /** Parses `chunk`, returning the records it completes. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as string;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue; // CRLF: the CR ended the record already
      }
      if (this.inQuotes) {
        if (c === '"') {
          this.quotedCr = false;
          this.inQuotes = false;
          this.afterQuote = true;
        } else {
          // A line break inside the field: CR, LF or CRLF (which may be split across chunks).
          if (c === '\r' || (c === '\n' && !this.quotedCr)) this.line++;
          this.quotedCr = c === '\r';
          this.field += c;
        }
        continue;
      }
      if (this.afterQuote && c === '"') {
        // `""` inside a quoted field: one quote, still in quotes.
        this.field += '"';
        this.inQuotes = true;
        this.afterQuote = false;
        continue;
      }
      if (c === ',') {
        this.endField();
        this.started = true;
      } else if (c === '\n' || c === '\r') {
        this.pendingCr = c === '\r';
        this.line++;
        const record = this.endRecord();
        if (record !== undefined) out.push(record);
        this.recordLine = this.line;
      } else if (c === '"') {
        this.started = true;
        if (this.field === '' && !this.fieldQuoted) {
          this.inQuotes = true;
          this.fieldQuoted = true;
        } else {
          this.error ??= `a quote inside an unquoted field (column ${this.fields.length + 1}); quote the whole field and double the quote`;
          this.field += c;
        }
      } else {
        this.started = true;
        if (this.afterQuote) this.error ??= `text after the closing quote of column ${this.fields.length + 1}`;
        this.field += c;
        this.afterQuote = false;
      }
    }
    return out;
  }

  /** The last record when the input does not end with a line break; an error for an unclosed quote. */
  end(): CsvRecord[] {
    if (this.inQuotes) {
      this.error ??= 'a quoted field is not closed before the end of the input';
      this.inQuotes = false;
    }
    const record = this.endRecord();
    return record === undefined ? [] : [record];
  }

  private endField(): void {
    this.fields.push(this.field);
    this.quoted.push(this.fieldQuoted);
    this.field = '';
    this.fieldQuoted = false;
    this.afterQuote = false;
  }

  private endRecord(): CsvRecord | undefined {
    if (!this.started && this.field === '' && this.fields.length === 0) return undefined;
    this.endField();
    const record: CsvRecord = { line: this.recordLine, fields: this.fields, quoted: this.quoted };
    if (this.error !== undefined) record.error = this.error;
    this.fields = [];
    this.quoted = [];
    this.error = undefined;
    this.started = false;
    return record;
  }
}
