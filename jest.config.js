// One jest run over every project (npm test); each project also runs alone via `nx test NAME`.
module.exports = {
  // testTimeout is a global option: the projects' own (jest.preset.js) applies only when one runs alone.
  testTimeout: 60_000,
  projects: ['<rootDir>/libs/*/jest.config.js', '<rootDir>/apps/*/jest.config.js', '<rootDir>/tools/jest.config.js'],
};
