/** Lambda entry point of `POST /v1/tokens/{tokenId}/refresh`. */
import { refreshHandler } from '../handlers/refresh';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = refreshHandler(() => deps);
