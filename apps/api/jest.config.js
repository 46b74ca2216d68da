const preset = require('../../jest.preset.js');

// node-pg-migrate (the PostgreSQL store's migrations) ships as an ES module only: Node 20 requires
// it natively (the built server), jest's module system cannot, so swc turns it into CommonJS here.
const swcToCommonJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
module.exports = {
  ...preset,
  displayName: 'api',
  rootDir: __dirname,
  transform: { ...preset.transform, '/node_modules/node-pg-migrate/.+\\.js$': swcToCommonJs },
  transformIgnorePatterns: ['/node_modules/(?!node-pg-migrate/)'],
};
