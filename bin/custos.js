#!/usr/bin/env -S node --max-semi-space-size=4
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`).
// A 4 MB young generation (V8's default is 16 MB per semi-space, three of them): a scan allocates a short-lived
// stat record and path per file, and with the default the agent's resident memory grows by ~45 MB for nothing
// (1 million files: 194 MB -> 147 MB for an unchanged re-check, same wall time). Run through `node bin/custos.js`
// the flag is not applied; the systemd units and the npm bin link execute this file.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
