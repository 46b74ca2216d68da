import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@recsys/testing';
import { ByteProgress, ChunkReader, daysFromCivil, parseDecimal, parseId, parseIsoDate } from './byte-reader';

const dir = tempDir('recsys-byte-reader-');

/** Lines as the reader hands them over, split by hand from the chunks. */
async function linesOf(bytes: Buffer | string, chunkBytes: number): Promise<string[]> {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  const lines: string[] = [];
  await new ChunkReader(chunkBytes).forEachChunk(file, (buf, start, end) => {
    expect(buf[end - 1]).toBe(10); // every chunk ends a line
    lines.push(...buf.toString('latin1', start, end - 1).split('\n'));
  });
  return lines;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('ChunkReader', () => {
  const text = 'User_ID,Rating,Movie_ID\n712664,5,3\n1331154,4,3\n\n2632461,3,3\n';
  const expected = ['User_ID,Rating,Movie_ID', '712664,5,3', '1331154,4,3', '', '2632461,3,3'];

  it.each([1, 2, 3, 7, 16, 64, 1 << 20])('gives the same whole lines for chunks of %i bytes', async (chunk) => {
    expect(await linesOf(text, chunk)).toEqual(expected);
  });

  it('terminates a last line without newline', async () => {
    expect(await linesOf('1,2,3\n4,5,6', 4)).toEqual(['1,2,3', '4,5,6']);
    expect(await linesOf('4,5,6', 5)).toEqual(['4,5,6']); // fills the buffer: it grows to make room
    expect(await linesOf('a,b\n123456789\n', 2)).toEqual(['a,b', '123456789']); // lines longer than the buffer
  });

  it('drops a UTF-8 BOM at the start only', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await linesOf(Buffer.concat([bom, bytes('a\nb\n')]), 2)).toEqual(['a', 'b']);
    expect(await linesOf(Buffer.concat([bytes('a\n'), bom, bytes('b\n')]), 64)).toEqual(['a', '\u00ef\u00bb\u00bfb']);
  });

  it('hands nothing over for an empty file and counts bytes and progress', async () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '');
    let calls = 0;
    expect(await new ChunkReader(8).forEachChunk(file, () => calls++)).toBe(0);
    expect(calls).toBe(0);

    const seen: Array<[number, number]> = [];
    const full = join(dir, 'full');
    writeFileSync(full, text);
    const progress = new ByteProgress(text.length, (done, total) => seen.push([done, total]));
    expect(await new ChunkReader(16).forEachChunk(full, () => undefined, progress)).toBe(text.length);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[seen.length - 1]).toEqual([text.length, text.length]);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
  });
});

describe('number parsers', () => {
  const id = (s: string): number => parseId(bytes(s), 0, s.length);
  const dec = (s: string): number => parseDecimal(bytes(s), 0, s.length);
  const date = (s: string): number => parseIsoDate(bytes(s), 0, s.length);

  it('parses ids: digits only, up to 2^31 - 1', () => {
    expect(id('0')).toBe(0);
    expect(id('2649429')).toBe(2649429);
    expect(id('2147483647')).toBe(2147483647);
    for (const bad of ['', '-1', '+1', '1.0', '12a', ' 1', '2147483648', '99999999999']) expect(id(bad)).toBe(-1);
  });

  it('parses decimals without sign or exponent', () => {
    expect(dec('4')).toBe(4);
    expect(dec('4.0')).toBe(4);
    expect(dec('3.5')).toBe(3.5);
    expect(dec('0.5')).toBe(0.5);
    for (const bad of ['', '.5', '4.', '-1', '1e2', 'abc', '3.5.1']) expect(dec(bad)).toBeNaN();
  });

  it('turns YYYY-MM-DD into days since 1970-01-01 like Date.UTC', () => {
    expect(date('1970-01-01')).toBe(0);
    expect(date('2005-09-06')).toBe(13032);
    expect(date('2149-06-06')).toBe(65535);
    for (const [y, m, d] of [
      [1999, 11, 11],
      [2000, 2, 29],
      [2004, 12, 31],
      [1969, 12, 31],
      [2100, 3, 1],
    ]) {
      expect(daysFromCivil(y, m, d)).toBe(Date.UTC(y, m - 1, d) / 86400000);
    }
  });

  it('refuses impossible or misshapen dates', () => {
    for (const bad of ['2005-02-29', '1900-02-29', '2005-13-01', '2005-00-10', '2005-04-31', '2005-9-6', '2005/09/06', '20050906xx']) {
      expect(date(bad)).toBeNaN();
    }
    expect(date('2004-02-29')).toBe(Date.UTC(2004, 1, 29) / 86400000);
  });
});
