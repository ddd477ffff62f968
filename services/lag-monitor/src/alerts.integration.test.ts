/**
 * The Prometheus configuration and alert rules of infra/prometheus, checked by Prometheus' own
 * promtool: the config and rules are valid, and every alert fires and stays silent where its
 * unit tests (tests.yml) say. promtool comes from Debian's prometheus package (installed when
 * missing and running as root).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { INFRA_DIR, ensurePromtool, runTool } from './testing/tools.ts';

const DIR = join(INFRA_DIR, 'prometheus');
let promtool: string;

beforeAll(async () => {
  promtool = await ensurePromtool();
});

describe('Prometheus configuration and alert rules', () => {
  it('the scrape configuration is valid (promtool check config)', () => {
    const run = runTool(promtool, ['check', 'config', join(DIR, 'prometheus.yml')]);
    expect(run.ok, run.output).toBe(true);
  });

  it('the alert rules are valid (promtool check rules)', () => {
    const run = runTool(promtool, ['check', 'rules', join(DIR, 'alerts.yml')]);
    expect(run.ok, run.output).toBe(true);
  });

  it('every alert fires and stays silent as its unit tests expect (promtool test rules)', () => {
    const run = runTool(promtool, ['test', 'rules', join(DIR, 'tests.yml')]);
    expect(run.ok, run.output).toBe(true);
    expect(run.output).toMatch(/SUCCESS/);
  });
});
