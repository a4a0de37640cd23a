import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
/** True when this code runs from its TypeScript source (tests through tsx), false when compiled into dist/. */
const FROM_SOURCE = HERE.endsWith('.ts');

/**
 * The package's root: where package.json, rules/, native/ and dist/ live. Compiled, this file is
 * dist/src/platform/package-root.js; run from source (the fast test suite, through tsx) it is
 * src/platform/package-root.ts. Both layouts ship in the repository and the .deb keeps the compiled one, so
 * the root is derived from which of the two this is, never from the working directory.
 */
export const PACKAGE_ROOT = resolve(dirname(HERE), FROM_SOURCE ? '../..' : '../../..');

/** A path inside the package (the built-in rules, the native addon, the console bundle, package.json). */
export function packagePath(...parts: readonly string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/**
 * The module `name` beside the module at `base` (its `import.meta.url`), with the caller's own extension: a
 * worker thread's script is `hash-worker.js` in dist/ and `hash-worker.ts` when the tests run from source (the
 * worker inherits the parent's `--import tsx`, so it loads TypeScript the same way).
 */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
