/** Lambda entry point of `POST /v1/tokens`. */
import { mintHandler } from '../handlers/mint';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = mintHandler(() => deps);
