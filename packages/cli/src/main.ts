#!/usr/bin/env node
/** Entry point of the `crm` command: `node packages/cli/src/main.ts --help`. */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2));
