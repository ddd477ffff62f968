/**
 * The profile API's redacted log paths. Request logs are written by the app itself (one line
 * per response, with the route pattern, not the URL, which carries customer ids), so no
 * request URL, header or token reaches the logs.
 */

/** Customer ids are personal data; credentials never belong in logs. */
export const REDACT = ['customerId', '*.customerId', 'id', 'params', '*.params', 'url', '*.url', 'headers', '*.headers', 'authorization', '*.authorization'];
