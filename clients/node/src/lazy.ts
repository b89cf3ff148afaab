/**
 * Modules that only the slow path needs (the first run, a heartbeat, a preference change), loaded on
 * first use. A warm-cache run never loads them: together they cost ~12 ms of start-up (node:crypto alone
 * ~2.5 ms), which would be most of the client's overhead on a CLI that starts in 50 ms. The ESM build defines `require` with
 * `createRequire(import.meta.url)` (see the build script in package.json).
 */
type EnvPaths = typeof import('env-paths');
type NodeCrypto = typeof import('node:crypto');
type ProperLockfile = typeof import('proper-lockfile');

let nodeCrypto: NodeCrypto | undefined;
let properLockfile: ProperLockfile | undefined;

/** `proper-lockfile`, loaded on first use. */
export function loadProperLockfile(): ProperLockfile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily on purpose (see above)
  properLockfile ??= require('proper-lockfile') as ProperLockfile;
  return properLockfile;
}

/** `node:crypto` (random UUIDs for install ids and Idempotency-Keys), loaded on first use. */
export function randomUUID(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily on purpose (see above)
  nodeCrypto ??= require('node:crypto') as NodeCrypto;
  return nodeCrypto.randomUUID();
}

/**
 * `env-paths`, through `require` even in the ESM build: importing a CommonJS package from ESM costs ~4 ms
 * of start-up (the CommonJS export scanner), requiring it ~1 ms.
 */
export function loadEnvPaths(): EnvPaths {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  return require('env-paths') as EnvPaths;
}
