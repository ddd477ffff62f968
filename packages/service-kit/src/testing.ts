/** Helpers of this package's tests (not exported). */
import { ConfigError } from './config.ts';

/** The ConfigError `run` throws; fails when it throws nothing or something else. */
export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
