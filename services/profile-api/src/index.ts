/**
 * @crm/profile-api: the read API over the segmenter's Redis state, for campaign engines.
 */
export { ConfigError, type ProfileApiConfig, loadConfig } from './config.ts';
export { ProfileApi } from './service.ts';
export { buildApp, type AppDeps } from './app.ts';
export { openApiDocument, openApiText } from './openapi.ts';
