module.exports = { ...require('../../jest.preset.js'), displayName: 'similarity', rootDir: __dirname };
