// Shared jest settings: TypeScript through swc (fast, keeps decorator metadata),
// and @recsys/* imports resolved to the libs' sources so tests never need a build.
const path = require('node:path');
const root = __dirname;
// Packages that ship ES modules only: Node 20 requires them natively (the built apps), jest's
// CommonJS module system cannot, so swc turns them into CommonJS in tests. node-pg-migrate: the
// PostgreSQL store's migrations; hyparquet, hyparquet-writer: Parquet for the Spark interop.
const ESM_ONLY = ['node-pg-migrate', 'hyparquet', 'hyparquet-writer'];
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@recsys/(core|data|similarity|optimization|models|evaluation|client|charts|testing)$': path.join(root, 'libs/$1/src/index.ts'),
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // A test fails for a wrong answer, not for being slow on a busy machine (jest's default is 5 s,
  // which tests with worker threads or real data exceed at a load average of 8 on 2 cores);
  // speed has bounds in the benchmarks (tools/bench). Tests that need longer still say so.
  testTimeout: 60_000,
};
