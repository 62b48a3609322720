#!/usr/bin/env node
// Native-solc-compatible front for solcjs: py-solc-x and slither parse `--version` and expect clean
// `--standard-json` output, but raw solcjs prints a banner first and ignores --base-path imports.
"use strict";
const fs = require("fs");
const path = require("path");

const here = __dirname;
const projectRoot = path.resolve(here, "..", "..");
const solc = require(require.resolve("solc", { paths: [projectRoot, here] }));

const args = process.argv.slice(2);
const version = solc.version().replace(".Emscripten.clang", ".Linux.g++");

if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc wrapper: only --version and --standard-json are supported\n");
  process.exit(2);
}

const roots = [process.cwd()];
// Like native solc, the standard-JSON input may be a positional file argument anywhere among the
// flags (e.g. `--standard-json --allow-paths . input.json`); without one it is read from stdin.
const positionals = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const take = (flag) => {
    if (a === flag && i + 1 < args.length) return args[++i];
    if (a.startsWith(flag + "=")) return a.slice(flag.length + 1);
    return null;
  };
  const base = take("--base-path");
  if (base !== null) { roots.unshift(path.resolve(base)); continue; }
  const inc = take("--include-path");
  if (inc !== null) { roots.push(path.resolve(inc)); continue; }
  const allow = take("--allow-paths");
  if (allow !== null) { allow.split(",").forEach((p) => roots.push(path.resolve(p))); continue; }
  if (!a.startsWith("-")) positionals.push(a);
}
roots.push(path.join(projectRoot, "node_modules"));

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
  for (const c of candidates) {
    try {
      return { contents: fs.readFileSync(c, "utf8") };
    } catch (_) { /* try the next root */ }
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const inputFile = positionals.length ? positionals[0] : null;
let input = fs.readFileSync(inputFile || 0, "utf8");
// crytic-compile (slither --solc-standard-json) records --solc-args "--via-ir" but never writes
// settings.viaIR into the JSON it sends, and passes no flags besides --allow-paths; the contracts
// only compile through the IR pipeline, so this variable lets such callers ask for it.
if (process.env.SOLC_WRAPPER_VIA_IR === "1") {
  const parsed = JSON.parse(input);
  parsed.settings = parsed.settings || {};
  if (parsed.settings.viaIR === undefined) parsed.settings.viaIR = true;
  input = JSON.stringify(parsed);
}
const output = solc.compile(input, { import: findImports });
process.stdout.write(output);
process.stdout.write("\n");
