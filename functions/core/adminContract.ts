/**
 * The admin API's token filter (docs/admin-api.md), shared by the broker, the admin CLI and the console.
 * It imports nothing: the console's browser build takes it without any server code.
 */

/** A filter as the admin API takes it (query parameters of the list, `filter` of a bulk job). */
export interface AdminFilter {
  status?: string;
  app?: string;
  version?: string;
  install?: string;
  network?: string;
  createdAfter?: string;
  createdBefore?: string;
  seenAfter?: string;
  seenBefore?: string;
}

/** The filter's keys: the list's query parameters and a bulk job's `filter` fields alike. */
export const ADMIN_FILTER_KEYS = [
  'status',
  'app',
  'version',
  'install',
  'network',
  'createdAfter',
  'createdBefore',
  'seenAfter',
  'seenBefore',
] as const satisfies ReadonlyArray<keyof AdminFilter>;
