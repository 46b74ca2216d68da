#!/usr/bin/env node
// Reads jest's --json results and prints the closing line CI reads: "N passed, N failed[, N skipped]".
// A test file that failed to run at all (syntax error, failed import) counts as one failure, so a
// broken suite can never hide behind "0 failed". Exit code: 0 when nothing failed, 1 otherwise.
'use strict';
const fs = require('node:fs');

function summarize(results) {
  const passed = results.numPassedTests;
  const skipped = results.numPendingTests + (results.numTodoTests || 0);
  const suiteErrors = results.numRuntimeErrorTestSuites || 0;
  const failed = results.numFailedTests + suiteErrors;
  return { passed, failed, skipped, line: `${passed} passed, ${failed} failed, ${skipped} skipped` };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: ci-summary.js JEST_JSON_FILE');
    process.exit(2);
  }
  let results;
  try {
    results = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`ci-summary: cannot read jest results from ${file}: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const s = summarize(results);
  if (s.passed + s.failed === 0) {
    console.error('ci-summary: jest ran no test');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(s.line);
  process.exit(s.failed === 0 && results.success !== false ? 0 : 1);
}

module.exports = { summarize };
