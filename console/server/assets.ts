/**
 * The console's built single-page app (console/dist, written by `npm run build:console`, which `npm install`
 * runs through `prepare`), read into memory once at start: only files that exist there can be served, so no
 * request path can reach another file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export const ASSETS_DIR = join(__dirname, '..', 'dist');
/** Where the page's token goes in the built index.html (console/index.html). */
export const TOKEN_PLACEHOLDER = '__CONSOLE_TOKEN__';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

export interface Asset {
  type: string;
  body: Buffer;
}

export interface Assets {
  /** The page with this start's token in it. */
  page(token: string): Buffer;
  /** A built file by its URL path (`/assets/index-….js`), or undefined. */
  file(urlPath: string): Asset | undefined;
}

/** The build is missing (a clone where `npm install` did not run `prepare`). */
export class AssetsMissing extends Error {
  constructor(dir: string) {
    super(`The console is not built (${dir} has no index.html): run \`npm run build:console\`.`);
    this.name = 'AssetsMissing';
  }
}

/**
 * @example const assets = loadAssets(); assets.page(token)
 */
export function loadAssets(dir = ASSETS_DIR): Assets {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) throw new AssetsMissing(dir);
  const index = readFileSync(indexFile, 'utf8');
  if (!index.includes(TOKEN_PLACEHOLDER))
    throw new Error(`${indexFile} has no ${TOKEN_PLACEHOLDER} to fill in`);
  const files = new Map<string, Asset>();
  for (const file of listFiles(dir)) {
    const urlPath = `/${relative(dir, file).split(sep).join('/')}`;
    if (urlPath === '/index.html') continue;
    files.set(urlPath, {
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  }
  return {
    page: (token) => Buffer.from(index.replace(TOKEN_PLACEHOLDER, token)),
    file: (urlPath) => files.get(urlPath),
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}
