import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// The flag is process-wide, so each case runs in a node process of its own, which reports with
// V8's %IsLiftoffFunction whether an exported function, called once, still runs baseline code.
const script = (eager: boolean): string => `
  ${eager ? `require(${JSON.stringify(path.join(__dirname, 'wasm-tiering'))}).compileWasmOptimizedEagerly();` : ''}
  // (module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
  const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,32,0,65,1,106,11]);
  const { f } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  if (f(1) !== 2) throw new Error('the module did not run');
  const deadline = Date.now() + 5000;
  const poll = () => {
    if (!%IsLiftoffFunction(f) || Date.now() > deadline) console.log(String(%IsLiftoffFunction(f)));
    else setTimeout(poll, 20);
  };
  ${eager ? 'poll();' : "setTimeout(() => console.log(String(%IsLiftoffFunction(f))), 300);"}
`;

const liftoffAfterOneCall = (eager: boolean): boolean =>
  execFileSync(process.execPath, ['--allow-natives-syntax', '-r', '@swc-node/register', '-e', script(eager)], { encoding: 'utf8', cwd: path.join(__dirname, '../../..') }).trim() === 'true';

describe('compileWasmOptimizedEagerly', () => {
  it('leaves no function on baseline code after one call; by default V8 keeps it there', () => {
    expect(liftoffAfterOneCall(false)).toBe(true);
    expect(liftoffAfterOneCall(true)).toBe(false);
  });
});
