/** Lambda entry point of `POST /v1/tokens/{tokenId}/heartbeat`. */
import { heartbeatHandler } from '../handlers/heartbeat';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = heartbeatHandler(() => deps);
