import { promises as fsp } from 'node:fs';
import { ProgressCallback } from '../dataset';

/** Size of the reused read buffer: large enough that a read costs little per byte, small enough to stay resident. */
export const CHUNK_BYTES = 8 << 20;

const LF = 10;

/** Largest external id the Int32 id arrays hold. */
export const MAX_ID = 2147483647;

/** Last day a Uint16 day number holds: 1970-01-01 + 65535 days = 2149-06-06. */
export const MAX_DAY = 65535;

/**
 * Bytes done of bytes total over every file of one load, reported to a `ProgressCallback`
 * after each chunk.
 */
export class ByteProgress {
  private done = 0;

  constructor(
    readonly total: number,
    private readonly callback?: ProgressCallback,
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    if (this.callback) this.callback(this.done, this.total);
  }
}

/**
 * Called with `buf[start, end)` holding whole lines, each ending with `\n` (a last line without a
 * newline gets one), a leading UTF-8 BOM removed. The buffer is reused: read what you need
 * before returning.
 */
export type ChunkHandler = (buf: Buffer, start: number, end: number) => void;

/**
 * Streams files through one reused buffer: reads `CHUNK_BYTES` at a time with a `FileHandle`,
 * hands over the complete lines of each read and carries the partial last line over to the next
 * read. A line longer than the buffer grows it (doubling). Memory stays at the buffer whatever
 * the file size; one reader serves every file of a load.
 */
export class ChunkReader {
  private buf: Buffer | null = null;

  constructor(readonly chunkBytes = CHUNK_BYTES) {}

  /**
   * Read `path` and hand every run of complete lines to `onChunk`. Returns the number of bytes read.
   *
   * With `from`/`to`, only the bytes [from, to) are read, as if they were the whole file (a BOM is
   * dropped only at byte 0). Callers split a file at line starts (just after a `\n`) so that
   * every line falls in exactly one range.
   */
  async forEachChunk(path: string, onChunk: ChunkHandler, progress?: ByteProgress, from = 0, to = Infinity): Promise<number> {
    let buf = this.buf ?? (this.buf = Buffer.allocUnsafe(this.chunkBytes));
    const file = await fsp.open(path, 'r');
    let total = 0;
    try {
      let carry = 0; // bytes buf[0, carry) are an unfinished line from the previous read
      let first = from === 0;
      let position = from;
      for (;;) {
        if (carry === buf.length) buf = this.grow(carry);
        const want = Math.min(buf.length - carry, to - position);
        const { bytesRead } = want > 0 ? await file.read(buf, carry, want, position) : { bytesRead: 0 };
        position += bytesRead;
        total += bytesRead;
        if (progress && bytesRead > 0) progress.add(bytesRead);
        let end = carry + bytesRead;
        let pos = 0;
        if (first) {
          // Nothing has been handed over yet: read on until the first 3 bytes can be checked for a BOM.
          if (end < 3 && bytesRead > 0) {
            carry = end;
            continue;
          }
          first = false;
          if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
        }
        if (bytesRead === 0) {
          // End of file (or range): a last line without a newline is still a line; terminate it.
          // There is room: carry < buf.length (the buffer grows when a line fills it).
          if (end > pos) {
            buf[end++] = LF;
            onChunk(buf, pos, end);
          }
          return total;
        }
        const lastNewline = buf.lastIndexOf(LF, end - 1);
        if (lastNewline >= pos) {
          onChunk(buf, pos, lastNewline + 1);
          pos = lastNewline + 1;
        }
        carry = end - pos;
        if (carry > 0 && pos > 0) buf.copy(buf, 0, pos, end);
      }
    } finally {
      await file.close();
    }
  }

  /** A buffer twice as large holding the first `keep` bytes of the current one. */
  private grow(keep: number): Buffer {
    const bigger = Buffer.allocUnsafe(this.buf!.length * 2);
    this.buf!.copy(bigger, 0, 0, keep);
    return (this.buf = bigger);
  }
}

/**
 * Non-negative decimal integer of `buf[start, end)` (digits only), or -1 when the bytes are
 * empty, hold anything but digits, or exceed `MAX_ID`.
 */
export function parseId(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 10) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= MAX_ID ? v : -1;
}

/**
 * Non-negative decimal integer of up to 15 digits (exact in a double), or -1. For Unix
 * timestamps, which may outgrow 32 bits.
 */
export function parseCount(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Unsigned decimal number `digits[.digits]` of `buf[start, end)`, or NaN when it is not one
 * (no sign, no exponent). `3.5` → 3.5, `4.0` → 4.
 */
export function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 15) return NaN;
  let whole = 0;
  let i = start;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
  }
  if (i === start) return NaN;
  if (i === end) return whole;
  if (buf[i] !== 46 /* . */ || i + 1 === end) return NaN;
  let frac = 0;
  let scale = 1;
  for (i++; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return NaN;
    frac = frac * 10 + d;
    scale *= 10;
  }
  return whole + frac / scale;
}

/**
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (month 1..12), by Howard Hinnant's
 * `days_from_civil`: shift the year to start in March so the leap day is last, then
 * days = 146097·era + 365·yoe + ⌊yoe/4⌋ − ⌊yoe/100⌋ + ⌊(153·m' + 2)/5⌋ + d − 1 − 719468.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` date in `buf[start, end)`, or NaN when the bytes are
 * not a valid calendar date of that shape. The result may lie outside 0..MAX_DAY; callers check.
 */
export function parseIsoDate(buf: Buffer, start: number, end: number): number {
  if (end - start !== 10 || buf[start + 4] !== 45 || buf[start + 7] !== 45) return NaN;
  const y = digits(buf, start, start + 4);
  const m = digits(buf, start + 5, start + 7);
  const d = digits(buf, start + 8, start + 10);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return NaN;
  return daysFromCivil(y, m, d);
}

function digits(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The text of a field for messages, cut short when long. Error path only. */
export function fieldText(buf: Buffer, start: number, end: number): string {
  const text = printable(buf.toString('latin1', start, Math.min(end, start + 40)));
  return end - start > 40 ? `${text}…` : text;
}

/**
 * Control characters (NUL, escape, …) as `\xNN`, so that a bad row quoted in a message cannot
 * corrupt a terminal or a log line.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Where to split bytes [0, size) of a file into `parts` ranges of about equal size, each starting
 * at a line start: each cut is moved forward to just after the next `\n`. Returns the range
 * boundaries [0, c1, …, size] (fewer ranges when a cut finds no newline or cuts coincide).
 */
export async function lineAlignedCuts(path: string, size: number, parts: number): Promise<number[]> {
  const cuts = [0];
  const file = await fsp.open(path, 'r');
  try {
    const window = Buffer.allocUnsafe(64 << 10);
    for (let i = 1; i < parts; i++) {
      let at = Math.max(cuts[cuts.length - 1], Math.floor((size * i) / parts) - 1);
      let cut = -1;
      while (cut < 0 && at < size) {
        const { bytesRead } = await file.read(window, 0, window.length, at);
        if (bytesRead === 0) break;
        const nl = window.indexOf(LF);
        if (nl >= 0 && nl < bytesRead) cut = at + nl + 1;
        else at += bytesRead;
      }
      if (cut > cuts[cuts.length - 1] && cut < size) cuts.push(cut);
    }
  } finally {
    await file.close();
  }
  cuts.push(size);
  return cuts;
}
