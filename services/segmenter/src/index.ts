/**
 * @crm/segmenter: the segmentation service. `@crm/segmenter/testing` starts isolated instances
 * against the test servers (for other packages' integration tests).
 */
export { ConfigError, type SegmenterConfig, loadConfig } from './config.ts';
export { AS_OF_MESSAGE, Segmenter } from './service.ts';
export { SOURCE, toChangeEvent } from './partition-worker.ts';
