/**
 * Moved to @crm/service-kit. Kept only so that service.ts' import keeps working; delete once
 * service.ts imports startHttp from @crm/service-kit.
 */
export { type Probes, startHttp } from '@crm/service-kit';
