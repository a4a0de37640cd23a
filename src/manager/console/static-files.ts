import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packagePath } from '../../platform/package-root.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Where `npm run build` puts the console bundle: `dist/console`, beside `dist/src` (this file is in dist/src/manager/console). */
export const DEFAULT_BUNDLE_DIR = packagePath('dist/console/');

/**
 * Serves the console's built bundle from memory: `/` is its index.html, `/assets/<name>` its hashed assets (cached
 * for a year: a new build has new names). Only files the build wrote are served, by exact name: no path from a
 * request ever reaches the file system. Without a bundle, `/` says how to build it.
 */
export function staticFiles(bundleDir: string) {
  return async (app: FastifyInstance): Promise<void> => {
    const index = join(bundleDir, 'index.html');
    const assets = new Map<string, { body: Buffer; type: string }>();
    const assetDir = join(bundleDir, 'assets');
    if (existsSync(assetDir)) {
      for (const name of readdirSync(assetDir)) {
        const file = join(assetDir, name);
        if (statSync(file).isFile()) assets.set(name, { body: readFileSync(file), type: TYPES[extname(name)] ?? 'application/octet-stream' });
      }
    }
    const html = existsSync(index) ? readFileSync(index) : undefined;
    app.get('/', async (_request, reply) => {
      if (html === undefined) return reply.code(503).type('text/plain; charset=utf-8').send('the console is not built: run `npm run build`\n');
      return reply.type(TYPES['.html']!).header('cache-control', 'no-cache').send(html);
    });
    app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (asset === undefined) return reply.code(404).send({ error: 'no such asset' });
      return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body);
    });
  };
}
