/** Lambda entry point of `POST /v1/{traces,logs,metrics}`, the ingest relay (relay mode). */
import { relayHandler } from '../handlers/relay';
import { stampIdentity } from '../relay/stampIdentity';
import { lambdaDeps } from './_deps';

// Only this bundle carries the stamper (protobufjs): the other functions never stamp.
const deps = lambdaDeps(process.env, { stamp: stampIdentity });
export const handler = relayHandler(() => deps);
