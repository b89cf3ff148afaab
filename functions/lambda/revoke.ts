/** Lambda entry point of `POST /v1/tokens/{tokenId}/revoke` (self-revoke). */
import { revokeHandler } from '../handlers/revoke';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = revokeHandler(() => deps);
