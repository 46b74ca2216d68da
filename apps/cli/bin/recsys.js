#!/usr/bin/env node
// Installed as the `recsys` command (npx recsys …); runs the compiled CLI.
require('../dist/main.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
