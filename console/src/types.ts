/**
 * The admin API's shapes, shared with the CLI: cli/src/api/types.ts imports nothing, so none of the CLI's
 * Node code enters the browser build.
 */
export * from '../../cli/src/api/types';
