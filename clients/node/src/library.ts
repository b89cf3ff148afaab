/**
 * This library as the broker knows it: sent in the mint body (`client`), so the operator's
 * `minClientVersion` can stop old copies (docs/admin-api.md). Kept equal to package.json by a test.
 */
export const CLIENT_LIBRARY = { name: 'logfire-broker-client', version: '0.1.0' } as const;
