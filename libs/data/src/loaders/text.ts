import { openSync, readSync, closeSync } from 'node:fs';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Text of a file's bytes: ISO-8859-1, or UTF-8 when the bytes are valid UTF-8 and latin1 otherwise. A UTF-8 BOM is dropped. */
export function decodeText(bytes: Buffer, encoding: 'latin1' | 'utf8-or-latin1'): string {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  if (encoding === 'utf8-or-latin1') {
    try {
      return utf8Strict.decode(body);
    } catch {
      // not UTF-8: fall through to latin1
    }
  }
  return body.toString('latin1');
}

/** Lines of a small text (LF or CRLF, terminators removed); line number n is index n - 1. */
export function textLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** One CSV record: its fields (quotes removed, `""` unescaped) and the line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
  /** An opening quote was never closed (the record runs to the end of the text). */
  unterminated: boolean;
}

/**
 * RFC 4180 records of a small CSV text: fields separated by commas; a field that starts with a
 * double quote runs to the closing quote, inside which `""` is a quote and commas and line breaks
 * are literal. Blank lines yield no record. For titles files (kilobytes to a few megabytes), not
 * for rating files.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStart = true;
  let line = 1;
  let recordLine = 1;
  const endRecord = (unterminated: boolean): void => {
    if (fields.length > 0 || field !== '' || !fieldStart || unterminated) {
      fields.push(field);
      records.push({ fields, line: recordLine, unterminated });
    }
    fields = [];
    field = '';
    fieldStart = true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') {
        if (c === '\n') line++;
        field += c;
      } else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStart = true;
    } else if (c === '\n') {
      endRecord(false);
      recordLine = ++line;
    } else if (c === '\r' && text[i + 1] === '\n') {
      // CRLF: the \n ends the record
    } else if (c === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
    } else {
      field += c;
      fieldStart = false;
    }
  }
  endRecord(quoted);
  return records;
}

/** Year in a trailing `(YYYY)` of a title (MovieLens `Toy Story (1995)`), or null. */
export function yearFromTitle(title: string): number | null {
  const m = /\((\d{4})(?:[-–]\d{0,4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : null;
}

/** Year field of a titles file: a non-negative integer, or null for `NULL` / empty; undefined when malformed. */
export function parseYear(text: string): number | null | undefined {
  const t = text.trim();
  if (t === '' || t.toUpperCase() === 'NULL') return null;
  return /^\d{1,4}$/.test(t) ? Number(t) : undefined;
}

/** A titles id field: non-negative integer up to 2147483647, else -1. */
export function parseIdText(text: string): number {
  if (!/^\d{1,10}$/.test(text)) return -1;
  const v = Number(text);
  return v <= 2147483647 ? v : -1;
}

/** The first line of a file (BOM and CR removed), from its first 64 KiB; null for an empty file. */
export function readFirstLine(path: string): string | null {
  return readFirstLines(path, 1)[0] ?? null;
}

/**
 * Up to `n` first lines of a file (BOM and CR removed), from its first 64 KiB; none for an empty
 * file. The last one may be cut short when the lines are long.
 */
export function readFirstLines(path: string, n: number): string[] {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const got = readSync(fd, buf, 0, buf.length, 0);
    let text = buf.toString('latin1', 0, got);
    if (text.startsWith('\u00ef\u00bb\u00bf')) text = text.slice(3);
    if (text === '') return [];
    const lines = text.split('\n', n);
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  } finally {
    closeSync(fd);
  }
}
