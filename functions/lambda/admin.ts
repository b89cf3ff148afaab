/**
 * Lambda entry point of every `/v1/admin/*` route (API Gateway checks SigV4 first: AWS_IAM). Only this
 * function's role may read the admin TOTP seed (infra/handlers.ts).
 */
import { adminHandler } from '../handlers/admin';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();
export const handler = adminHandler(() => deps);
