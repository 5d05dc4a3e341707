// Parse an AsyncAPI document with the official parser and fail on any error diagnostic.
//
//   node validate.mjs ../asyncapi.yaml
//
// Exit status: 0 valid (warnings are printed), 1 errors found, 2 usage or I/O problem.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const SEVERITY = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node validate.mjs <asyncapi document>");
    return 2;
  }
  const path = resolve(argv[0]);
  let source;
  try {
    source = await readFile(path, "utf8");
  } catch (err) {
    console.error(`cannot read ${path}: ${err.message}`);
    return 2;
  }
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(source, { source: path });
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of diagnostics) {
    if (d.severity !== DiagnosticSeverity.Error && d.severity !== DiagnosticSeverity.Warning) {
      continue;
    }
    const where = d.path && d.path.length ? d.path.join(".") : "(document)";
    const line = d.range ? `:${d.range.start.line + 1}` : "";
    console.log(`${SEVERITY[d.severity]} ${d.code} ${path}${line} at ${where}: ${d.message}`);
  }
  if (errors.length > 0 || document === undefined) {
    console.log(`INVALID: ${errors.length} error(s) in ${path}`);
    return 1;
  }
  const channels = document.channels().length;
  const operations = document.operations().length;
  const messages = document.allMessages().length;
  console.log(
    `VALID: AsyncAPI ${document.version()} with ${channels} channels, ` +
      `${operations} operations, ${messages} messages`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(2);
  },
);
