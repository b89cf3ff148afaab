/** Lambda entry point of `POST /v1/{traces,logs,metrics}`, the ingest relay (relay mode). */
import { relayHandler } from '../handlers/relay';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = relayHandler(() => deps);
