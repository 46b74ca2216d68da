module.exports = { ...require('../../jest.preset.js'), displayName: 'optimization', rootDir: __dirname };
