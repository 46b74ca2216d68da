import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeContainer, readContainer } from './container';
import { registerWasmBuffer, sharedBuffer, WASM_PAGE_BYTES, wasmMemoryOf } from './wasm-memory';

describe('sharedBuffer / wasmMemoryOf', () => {
  it('hands out the buffer of a shared WebAssembly.Memory, whole pages, found again by wasmMemoryOf', () => {
    const buffer = sharedBuffer(100_000);
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(buffer.byteLength).toBe(2 * WASM_PAGE_BYTES);
    const memory = wasmMemoryOf(buffer)!;
    expect(memory.buffer).toBe(buffer);
    // The memory's own view and the buffer's are the same bytes.
    new Uint8Array(buffer)[12345] = 7;
    expect(new Uint8Array(memory.buffer)[12345]).toBe(7);
  });

  it('knows no memory behind plain buffers; a grown memory registers its new buffer', () => {
    expect(wasmMemoryOf(new SharedArrayBuffer(8))).toBeUndefined();
    expect(wasmMemoryOf(new ArrayBuffer(8))).toBeUndefined();
    const buffer = sharedBuffer(10);
    const memory = wasmMemoryOf(buffer)!;
    expect(memory.grow(1)).toBe(1);
    const grown = registerWasmBuffer(memory);
    expect(grown.byteLength).toBe(2 * WASM_PAGE_BYTES);
    expect(wasmMemoryOf(grown)).toBe(memory);
    expect(wasmMemoryOf(buffer)).toBe(memory);
  });

  it('readContainer reads a file into such a memory: its sections are views of it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-wasm-memory-'));
    try {
      const file = path.join(dir, 'c.bin');
      const format = { magic: 'TESTWASM', version: 1, name: 'test' };
      fs.writeFileSync(file, encodeContainer(format, { header: {}, sections: { a: Int32Array.of(1, 2, 3), b: Uint8Array.of(9) } }));
      const { sections } = readContainer(format, file);
      expect(Array.from(sections.a)).toEqual([1, 2, 3]);
      const memory = wasmMemoryOf(sections.a.buffer);
      expect(memory).toBeDefined();
      expect(wasmMemoryOf(sections.b.buffer)).toBe(memory);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
