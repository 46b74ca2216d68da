import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFincore, pageCacheResidency } from '../bench/page-cache';

describe('parseFincore', () => {
  it('sums RES and SIZE over the files', () => {
    expect(parseFincore('189726720 546206191\n360448 10773750\n')).toEqual({ residentBytes: 190087168, bytes: 556979941, share: 190087168 / 556979941 });
    expect(parseFincore('')).toEqual({ residentBytes: 0, bytes: 0, share: 1 });
  });

  it('refuses a line that is not two byte counts, quoting it', () => {
    expect(() => parseFincore('190M 546M\n')).toThrow('fincore: expected "RES SIZE" in bytes, got "190M 546M"');
    expect(() => parseFincore('12\n')).toThrow('got "12"');
  });
});

describe('pageCacheResidency', () => {
  it('reads a file just written as held by the page cache, when fincore is installed', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'page-cache-')), 'f.bin');
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 7));
    const r = pageCacheResidency([file]);
    if (r === null) {
      console.log('pageCacheResidency: fincore is not installed here; only the null answer is checked');
      return;
    }
    expect(r.bytes).toBe(1 << 20);
    expect(r.residentBytes).toBeGreaterThan(0);
    expect(r.share).toBeGreaterThan(0);
  });

  it('is null when fincore fails (a missing file)', () => {
    expect(pageCacheResidency([path.join(os.tmpdir(), 'no-such-file-page-cache-spec')])).toBeNull();
  });
});
