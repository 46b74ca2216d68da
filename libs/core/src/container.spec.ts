import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  CONTAINER_PREAMBLE_BYTES,
  ContainerContent,
  ContainerError,
  ContainerFormat,
  decodeContainer,
  encodeContainer,
  isContainerFile,
  readContainer,
  SectionArray,
  writeContainer,
} from './container';

const FORMAT: ContainerFormat = { magic: 'TESTFMT1', version: 3, oldestVersion: 2, name: 'test file' };

const content: ContainerContent = {
  header: { kind: 'demo', params: { a: 1, b: [true, null] }, title: 'Amélie 東京 🎬' },
  sections: {
    bytes: Uint8Array.of(1, 2, 3),
    empty: new Float32Array(0),
    signed: Int8Array.of(-1, 127, -128),
    shorts: Uint16Array.of(65535, 7),
    ints: Int32Array.of(-5, 2_000_000_000),
    words: Uint32Array.of(4_000_000_000),
    floats: Float32Array.of(0.5, -1.25),
    doubles: Float64Array.of(Math.PI, -0),
  },
};

/** Recomputes the CRC-32 after a deliberate edit, so that only the intended defect remains. */
function resum(bytes: Buffer): Buffer {
  bytes.writeUInt32LE(zlib.crc32(bytes.subarray(28), zlib.crc32(bytes.subarray(0, 24))), 24);
  return bytes;
}

function expectSameSections(a: Record<string, SectionArray>, b: Record<string, SectionArray>): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const name of Object.keys(a)) {
    expect([name, b[name].constructor.name]).toEqual([name, a[name].constructor.name]);
    expect([name, Array.from(b[name])]).toEqual([name, Array.from(a[name])]);
  }
}

function refusal(fn: () => unknown): ContainerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContainerError);
    return e as ContainerError;
  }
  throw new Error('expected a ContainerError, nothing was thrown');
}

describe('container encode / decode', () => {
  const bytes = encodeContainer(FORMAT, content);

  it('lays out magic, version, header length, total length and a CRC-32 of everything else', () => {
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('TESTFMT1');
    expect(bytes.readUInt32LE(8)).toBe(3);
    expect(Number(bytes.readBigUInt64LE(16))).toBe(bytes.length);
    expect(bytes.length % 8).toBe(0);
    expect(bytes.readUInt32LE(24)).toBe(zlib.crc32(bytes.subarray(28), zlib.crc32(bytes.subarray(0, 24))));
    expect(bytes.readUInt32LE(28)).toBe(0);
    const json = JSON.parse(bytes.subarray(CONTAINER_PREAMBLE_BYTES, CONTAINER_PREAMBLE_BYTES + bytes.readUInt32LE(12)).toString('utf8'));
    expect(json.kind).toBe('demo');
    expect(json.sections[0]).toEqual({ name: 'bytes', type: 'u8', offset: json.sections[0].offset, length: 3 });
    for (const e of json.sections) expect(e.offset % 8).toBe(0);
  });

  it('round-trips the header and every section type, as views over the bytes', () => {
    const back = decodeContainer(FORMAT, bytes);
    expect(back.version).toBe(3);
    expect(back.header).toEqual(content.header);
    expectSameSections(content.sections as Record<string, SectionArray>, back.sections);
    for (const a of Object.values(back.sections)) expect(a.buffer).toBe(bytes.buffer);
    expect(Object.is(back.sections.doubles[1], -0)).toBe(true);
  });

  it('decodes from an unaligned offset through one aligned copy', () => {
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const back = decodeContainer(FORMAT, host.subarray(3));
    expectSameSections(content.sections as Record<string, SectionArray>, back.sections);
    expect(back.sections.doubles.byteOffset % 8).toBe(0);
  });

  it('reads files of the oldest version it supports', () => {
    const older = Buffer.from(bytes);
    older.writeUInt32LE(2, 8);
    expect(decodeContainer(FORMAT, resum(older)).version).toBe(2);
  });

  it('encodes an empty content', () => {
    const empty = encodeContainer(FORMAT, { header: {}, sections: {} });
    expect(decodeContainer(FORMAT, empty)).toEqual({ version: 3, header: {}, sections: {} });
  });

  it('refuses a header that uses the container key "sections" and a magic that is not 8 characters', () => {
    expect(() => encodeContainer(FORMAT, { header: { sections: 1 }, sections: {} })).toThrow('"sections" is the container\'s own header key');
    expect(() => encodeContainer({ ...FORMAT, magic: 'SHORT' }, content)).toThrow('the magic must be 8 characters');
  });
});

describe('container refusals', () => {
  const good = encodeContainer(FORMAT, content);
  const reason = (bytes: Uint8Array) => refusal(() => decodeContainer(FORMAT, bytes, 'f.bin')).reason;

  it('an empty file and a wrong magic', () => {
    expect(reason(new Uint8Array(0))).toBe('not a test file (empty file)');
    expect(reason(Buffer.from('User_ID,Rating\n'))).toBe('not a test file (the file does not start with "TESTFMT1")');
    expect(reason(Buffer.from('TEST'))).toBe('not a test file (the file does not start with "TESTFMT1")');
  });

  it('newer, older and zero versions', () => {
    const newer = Buffer.from(good);
    newer.writeUInt32LE(4, 8);
    expect(reason(newer)).toBe('written by a newer recsys: format version 4, this build reads up to 3');
    const older = Buffer.from(good);
    older.writeUInt32LE(1, 8);
    expect(reason(older)).toBe('written by an older format version 1, this build reads versions 2 to 3: write it again');
    const only = refusal(() => decodeContainer({ ...FORMAT, oldestVersion: undefined }, resum(Buffer.from(older)))).reason;
    expect(only).toBe('written by an older format version 1, this build reads version 3 only: write it again');
    const zero = Buffer.from(good);
    zero.writeUInt32LE(0, 8);
    expect(reason(zero)).toBe('corrupted: format version 0 is invalid');
  });

  it('truncation: inside the preamble, inside the JSON header, and in the sections', () => {
    expect(reason(good.subarray(0, 10))).toBe('truncated: expected at least 32 bytes (the header), found 10');
    expect(reason(good.subarray(0, 20))).toBe('truncated: expected at least 32 bytes (the header), found 20');
    const headerEnd = CONTAINER_PREAMBLE_BYTES + good.readUInt32LE(12);
    expect(reason(good.subarray(0, 40))).toBe(`truncated: expected at least ${headerEnd} bytes (the header), found 40`);
    expect(reason(good.subarray(0, good.length - 8))).toBe(`truncated: expected ${good.length} bytes, found ${good.length - 8}`);
  });

  it('trailing bytes', () => {
    const longer = Buffer.concat([good, Buffer.alloc(8)]);
    expect(reason(longer)).toBe(`corrupted: expected ${good.length} bytes, found ${good.length + 8} (trailing bytes)`);
  });

  it('a flipped byte anywhere but the checksum field, as a checksum mismatch', () => {
    for (const at of [0x1c, 40, Math.floor(good.length / 2), good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      expect(reason(bad)).toMatch(/^corrupted: checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
    }
  });

  it('a malformed JSON header and section table, even with a valid checksum', () => {
    const at = CONTAINER_PREAMBLE_BYTES;
    const notJson = Buffer.from(good);
    notJson[at] = 'x'.charCodeAt(0);
    expect(reason(resum(notJson))).toMatch(/^corrupted: the JSON header does not parse: /);

    const withHeader = (header: unknown, size = 0): Buffer => {
      const json = Buffer.from(JSON.stringify(header));
      const bytes = Buffer.alloc(Math.max(size, CONTAINER_PREAMBLE_BYTES + Math.ceil(json.length / 8) * 8));
      good.copy(bytes, 0, 0, CONTAINER_PREAMBLE_BYTES);
      bytes.writeUInt32LE(json.length, 12);
      bytes.writeBigUInt64LE(BigInt(bytes.length), 16);
      json.copy(bytes, CONTAINER_PREAMBLE_BYTES);
      return resum(bytes);
    };
    expect(reason(withHeader([1]))).toBe('corrupted: the JSON header is not an object');
    expect(reason(withHeader({ kind: 'x' }))).toBe('corrupted: the header has no section table');
    expect(reason(withHeader({ sections: [{ name: 'a', type: 'u64', offset: 0, length: 1 }] }))).toBe(
      'corrupted: malformed section entry {"name":"a","type":"u64","offset":0,"length":1}',
    );
    expect(reason(withHeader({ sections: [{ name: 'a', type: 'u8', offset: 64, length: 8 }] }))).toBe(
      'corrupted: section "a" (offset 64, 8 × u8) lies outside the file',
    );
    expect(reason(withHeader({ sections: [{ name: 'a', type: 'u8', offset: 4, length: 0 }] }))).toBe(
      'corrupted: section "a" (offset 4, 0 × u8) lies outside the file',
    );
    expect(reason(withHeader({ sections: [{ name: 'a', type: 'u8', offset: 256, length: 0 }, { name: 'a', type: 'u8', offset: 256, length: 0 }] }, 256))).toBe(
      'corrupted: section "a" appears twice',
    );
  });

  it('a format brings its own error class and reasons', () => {
    class FormatError extends Error {}
    const custom: ContainerFormat = {
      ...FORMAT,
      error: (file, why) => new FormatError(`[${file}] ${why}`),
      reasons: { magic: (found) => `starts with ${JSON.stringify(found)}`, truncated: (expected, found) => `${found} bytes, expected ${expected}` },
    };
    expect(() => decodeContainer(custom, Buffer.from('RECSYSNP........'), 'x')).toThrow(new FormatError('[x] starts with "RECSYSNP"'));
    expect(() => decodeContainer(custom, good.subarray(0, good.length - 8), 'x')).toThrow(`[x] ${good.length - 8} bytes, expected ${good.length}`);
    // Reasons it does not replace stay the defaults.
    expect(() => decodeContainer(custom, new Uint8Array(0), 'x')).toThrow('[x] not a test file (empty file)');
  });
});

describe('container files', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-container-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes atomically the bytes encodeContainer gives, and reads them back as views over one buffer', () => {
    const file = path.join(dir, 'a.bin');
    writeContainer(FORMAT, file, content);
    expect(fs.readFileSync(file).equals(encodeContainer(FORMAT, content))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const back = readContainer(FORMAT, file);
    expect(back.header).toEqual(content.header);
    expectSameSections(content.sections as Record<string, SectionArray>, back.sections);
    const buffers = new Set(Object.values(back.sections).map((a) => a.buffer));
    expect(buffers.size).toBe(1);
    // A shared WebAssembly.Memory's buffer (sharedBuffer): the file rounded up to whole 64 KiB pages.
    expect([...buffers][0].byteLength).toBe(Math.ceil(fs.statSync(file).size / 65536) * 65536);
    expect(isContainerFile(FORMAT, file)).toBe(true);
  });

  it('replaces an existing file', () => {
    const file = path.join(dir, 'b.bin');
    writeContainer(FORMAT, file, content);
    writeContainer(FORMAT, file, { header: { second: true }, sections: {} });
    expect(readContainer(FORMAT, file).header).toEqual({ second: true });
  });

  it('refuses with the file named, checking the preamble before reading the rest', () => {
    const file = path.join(dir, 'cut.bin');
    const good = encodeContainer(FORMAT, content);
    fs.writeFileSync(file, good.subarray(0, good.length - 16));
    expect(() => readContainer(FORMAT, file)).toThrow(`${file}: truncated: expected ${good.length} bytes, found ${good.length - 16}`);
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 50n, 16);
    fs.writeFileSync(file, huge);
    expect(() => readContainer(FORMAT, file)).toThrow(`${file}: truncated: expected ${2 ** 50} bytes, found ${good.length}`);
    fs.writeFileSync(file, '');
    expect(() => readContainer(FORMAT, file)).toThrow(`${file}: not a test file (empty file)`);
    expect(isContainerFile(FORMAT, file)).toBe(false);
    expect(isContainerFile(FORMAT, path.join(dir, 'missing.bin'))).toBe(false);
    expect(() => readContainer(FORMAT, path.join(dir, 'missing.bin'))).toThrow(/ENOENT/);
  });
});

describe('readContainer with separate: one ArrayBuffer per section', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-container-separate-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const good = encodeContainer(FORMAT, content);

  /** The message of each reader for the same bytes, through a file. */
  function messages(bytes: Uint8Array): { decoded: string; separate: string } {
    const file = path.join(dir, 'x.bin');
    fs.writeFileSync(file, bytes);
    const decoded = refusal(() => decodeContainer(FORMAT, bytes, file)).message;
    const separate = refusal(() => readContainer(FORMAT, file, { separate: true })).message;
    return { decoded, separate };
  }

  it('gives the header and sections of the shared read, each section alone in a plain ArrayBuffer of its own size', () => {
    const file = path.join(dir, 'a.bin');
    writeContainer(FORMAT, file, content);
    const back = readContainer(FORMAT, file, { separate: true });
    expect(back.version).toBe(FORMAT.version);
    expect(back.header).toEqual(content.header);
    expectSameSections(content.sections as Record<string, SectionArray>, back.sections);
    const sections = Object.values(back.sections);
    expect(new Set(sections.map((a) => a.buffer)).size).toBe(sections.length);
    for (const a of sections) {
      expect(a.buffer).toBeInstanceOf(ArrayBuffer);
      expect([a.byteOffset, a.byteLength]).toEqual([0, a.buffer.byteLength]);
    }
  });

  it('refuses every defect the whole-file decode refuses, with the same reason (the checksum first)', () => {
    const cases: Buffer[] = [good.subarray(0, good.length - 16), Buffer.concat([good, Buffer.alloc(8)])];
    for (const at of [0x1c, 40, Math.floor(good.length / 2), good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      cases.push(bad);
    }
    const notJson = Buffer.from(good);
    notJson[CONTAINER_PREAMBLE_BYTES] = 'x'.charCodeAt(0);
    cases.push(resum(Buffer.from(notJson)), notJson);
    for (const bytes of cases) {
      const { decoded, separate } = messages(bytes);
      expect(separate).toBe(decoded);
    }
  });

  it('refuses sections that overlap, which it cannot read apart', () => {
    const json = Buffer.from(JSON.stringify({ sections: [{ name: 'a', type: 'u8', offset: 152, length: 16 }, { name: 'b', type: 'u8', offset: 160, length: 8 }] }));
    const bytes = Buffer.alloc(176);
    good.copy(bytes, 0, 0, CONTAINER_PREAMBLE_BYTES);
    bytes.writeUInt32LE(json.length, 12);
    bytes.writeBigUInt64LE(BigInt(bytes.length), 16);
    json.copy(bytes, CONTAINER_PREAMBLE_BYTES);
    expect(CONTAINER_PREAMBLE_BYTES + json.length).toBeLessThanOrEqual(152);
    const file = path.join(dir, 'overlap.bin');
    fs.writeFileSync(file, resum(bytes));
    // The whole-file decode gives overlapping views; read apart, the second would need bytes already read.
    expect(Array.from(decodeContainer(FORMAT, bytes).sections.b)).toEqual(new Array(8).fill(0));
    expect(refusal(() => readContainer(FORMAT, file, { separate: true })).message).toBe(`${file}: corrupted: section "b" (offset 160) overlaps the bytes before it: sections cannot be read apart`);
  });
});
