/**
 * @crm/demo: the live demo (`node services/demo/src/main.ts`). Exported for tests and for
 * embedding the demo elsewhere (e.g. a CLI command).
 */
export { type DemoConfig, DemoConfigError, loadDemoConfig } from './config.ts';
export { Demo } from './demo.ts';
export { Pacer } from './pacer.ts';
export { type Status, Tally, formatChange, formatTally } from './view.ts';
