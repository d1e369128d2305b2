/**
 * `npm run package`: zips dist/extension (build it first with `npm run build`) into
 * dist/ytsent-extension-<version>.zip, ready for the Chrome Web Store or for sharing, and checks the
 * size budget (15 MB).
 */
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync, type Zippable } from 'fflate';

export const MAX_ZIP_BYTES = 15 * 1024 * 1024;

export function packageExtension(dir: string, outDir: string): { path: string; bytes: number; files: number } {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir}: no manifest.json (run npm run build first)`);
  const files: Zippable = {};
  let count = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        // Fixed timestamps: the same build always gives the same zip.
        files[relative(dir, path).split('\\').join('/')] = [new Uint8Array(readFileSync(path)), { mtime: new Date('2026-01-01T00:00:00Z') }];
        count++;
      }
    }
  };
  walk(dir);
  const version = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: string }).version;
  const zip = zipSync(files, { level: 9 });
  const path = join(outDir, `ytsent-extension-${version}.zip`);
  writeFileSync(path, zip);
  return { path, bytes: zip.byteLength, files: count };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..');
  const result = packageExtension(join(root, 'dist', 'extension'), join(root, 'dist'));
  console.log(`${relative(process.cwd(), result.path)}: ${result.files} files, ${(result.bytes / 1024 / 1024).toFixed(2)} MB (budget ${MAX_ZIP_BYTES / 1024 / 1024} MB)`);
  if (result.bytes > MAX_ZIP_BYTES) {
    console.error('package: over the size budget');
    process.exitCode = 1;
  }
}
