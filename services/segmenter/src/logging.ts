/**
 * Moved to @crm/service-kit (the redacted paths to main.ts). Kept only so that service.ts'
 * import keeps working; delete once service.ts imports kafkaLogCreator from @crm/service-kit.
 */
export { kafkaLogCreator } from '@crm/service-kit';
