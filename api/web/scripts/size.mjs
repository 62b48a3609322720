// Prints the bundle size (raw and gzip) of every file vite wrote, and the total.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(dist);
let raw = 0;
let gz = 0;
for (const f of files.sort()) {
  const body = readFileSync(f);
  const z = gzipSync(body).length;
  raw += body.length;
  gz += z;
  console.log(`  ${relative(dist, f).padEnd(40)} ${(body.length / 1024).toFixed(1).padStart(8)} kB  gzip ${(z / 1024).toFixed(1).padStart(7)} kB`);
}
console.log(`dashboard bundle: ${(raw / 1024).toFixed(1)} kB (gzip ${(gz / 1024).toFixed(1)} kB) in ${files.length} files`);
