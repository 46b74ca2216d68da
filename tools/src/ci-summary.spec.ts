// eslint-disable-next-line @typescript-eslint/no-require-imports
const { summarize } = require('../ci-summary.js');

describe('ci-summary', () => {
  it('counts passed, failed and skipped tests, and suites that failed to run as failures', () => {
    const s = summarize({ numPassedTests: 7, numFailedTests: 2, numPendingTests: 3, numTodoTests: 1, numRuntimeErrorTestSuites: 1 });
    expect(s).toEqual({ passed: 7, failed: 3, skipped: 4, line: '7 passed, 3 failed, 4 skipped' });
  });
});
