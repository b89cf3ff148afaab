/** Lambda entry point of `POST /v1/{traces,logs,metrics}`, the ingest relay (relay mode). */
import type { StampIdentity } from '../core/relay';
import { relayHandler } from '../handlers/relay';
import { lambdaDeps } from './_deps';

// Only this bundle carries the stamper (protobufjs), and its module runs on the first batch it stamps, not
// at init: building the OTLP schema costs a cold start about 10 ms (docs/benchmarks.md, section 3), which
// a relay that does not stamp (the default) never pays. esbuild defers a require()d module's evaluation.
let stamper: StampIdentity | undefined;
const stamp: StampIdentity = (...args) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  stamper ??= (require('../relay/stampIdentity') as typeof import('../relay/stampIdentity')).stampIdentity;
  return stamper(...args);
};
const deps = lambdaDeps(process.env, { stamp });
export const handler = relayHandler(() => deps);
