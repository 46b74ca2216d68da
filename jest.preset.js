// Shared jest settings: TypeScript through swc (fast, keeps decorator metadata),
// and @recsys/* imports resolved to the libs' sources so tests never need a build.
const path = require('node:path');
const root = __dirname;
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
    '/node_modules/hyparquet(-writer)?/.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // hyparquet and hyparquet-writer (Parquet for the Spark interop) ship ES modules only: jest's
  // CommonJS runtime needs them compiled (node itself requires them as they are).
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
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
