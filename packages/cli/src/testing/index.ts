/** @crm/cli/testing: what other packages' tests of reads reuse (the CLI in-process, its quantile-mode fixture). */
export { type CapturedIo, captureIo } from './io.ts';
export { QUANTILE_PARTITIONS, type QuantileCustomers, quantileCustomers } from './quantile.ts';
