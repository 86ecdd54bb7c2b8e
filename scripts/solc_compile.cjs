// Compile a standard-JSON request (stdin) with the solc-js pinned in contracts/package.json
// and write the standard-JSON output to the file named by the first argument.
// Writing to a file, not stdout, avoids solc-js truncating piped output on exit.
"use strict";
const fs = require("fs");
const path = require("path");

const contractsDir = path.resolve(__dirname, "..", "contracts");
const solc = require(path.join(contractsDir, "node_modules", "solc"));

function findImport(importPath) {
  for (const root of [contractsDir, path.join(contractsDir, "node_modules")]) {
    const candidate = path.join(root, importPath);
    if (candidate.startsWith(root) && fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `import not found: ${importPath}` };
}

const request = fs.readFileSync(0, "utf8");
if (process.argv[2] === "--version") {
  fs.writeFileSync(process.argv[3], solc.version());
} else {
  fs.writeFileSync(process.argv[2], solc.compile(request, { import: findImport }));
}
