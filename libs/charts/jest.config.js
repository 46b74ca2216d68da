module.exports = { ...require('../../jest.preset.js'), displayName: 'charts', rootDir: __dirname };
