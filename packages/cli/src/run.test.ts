/** The CLI run in-process, without servers: usage, errors, and a dry-run import. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ImportSummary } from './commands/import.ts';
import { captureIo } from './testing/io.ts';
import { writeRetailCsv } from './testing/retail-csv.ts';
import { run } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'crm-cli-'));
/** Nothing listens here: a command that touched a server would fail. */
const offline = { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', SCHEMA_REGISTRY_URL: '' };

describe('crm (in-process)', () => {
  it('prints help for every command', async () => {
    for (const argv of [
      [],
      ['infra'],
      ['topics', 'create'],
      ['topics', 'describe'],
      ['import', 'orders'],
      ['replay'],
      ['customer', 'show'],
      ['segments'],
      ['lag'],
      ['dead-letters', 'list'],
      ['dead-letters', 'redrive'],
    ]) {
      const io = captureIo(offline);
      expect(await run([...argv, '--help'], io), argv.join(' ')).toBe(0);
      expect(io.out(), argv.join(' ')).toMatch(/^Usage: crm/);
    }
  });

  it('rejects bad usage with exit code 2 and one message', async () => {
    const io = captureIo(offline);
    expect(await run(['customer', 'show'], io)).toBe(2);
    expect(io.err()).toMatch(/missing required argument 'id'/);
    const io2 = captureIo(offline);
    expect(await run(['topics', 'create', '--partitions', '0'], io2)).toBe(2);
    expect(io2.err()).toMatch(/--partitions must be an integer from 1 to 1024/);
  });

  it('names a bad environment variable in one line', async () => {
    const io = captureIo({ ...offline, KAFKA_BROKERS: 'localhost' });
    expect(await run(['topics', 'describe'], io)).toBe(2);
    expect(io.err()).toBe('crm: KAFKA_BROKERS: must be a comma-separated list of host:port, e.g. 127.0.0.1:19092 (got "localhost")\n');
    // Numbers are decimal digits: 1e3 once created topics of 1,000 partitions.
    const exponent = captureIo({ ...offline, CRM_PARTITIONS: '1e3' });
    expect(await run(['topics', 'create'], exponent)).toBe(2);
    expect(exponent.err()).toMatch(/^crm: CRM_PARTITIONS: must be a whole number from 1 to 1024, in decimal digits \(got "1e3"\)\n$/);
    const flag = captureIo(offline);
    expect(await run(['topics', 'create', '--partitions', '0x10'], flag)).toBe(2);
    expect(flag.err()).toMatch(/--partitions must be an integer from 1 to 1024/);
  });

  it('reports a server that does not answer in one line, no stack', async () => {
    const io = captureIo(offline);
    expect(await run(['segments'], io)).toBe(1);
    expect(io.err()).toMatch(/^crm: cannot reach Redis at redis:\/\/127.0.0.1:1: .*\n$/);
  });

  it('never prints a password: not in the command replay prints, nor in an error', async () => {
    const io = captureIo({ ...offline, REDIS_URL: 'redis://app:cli-secret-1@127.0.0.1:1' });
    expect(await run(['replay', '--print'], io)).toBe(0);
    expect(io.out()).toContain('REDIS_URL=redis://app:***@127.0.0.1:1 ');
    const io2 = captureIo({ ...offline, REDIS_URL: 'redis://app:cli-secret-1@127.0.0.1:1' });
    expect(await run(['segments'], io2)).toBe(1);
    expect(io2.err()).toMatch(/^crm: cannot reach Redis at redis:\/\/app:\*\*\*@127.0.0.1:1: /);
    const io3 = captureIo({ ...offline, REDIS_PASSWORD: 'cli-secret-2', KAFKA_SASL_PASSWORD: 'cli-secret-3' });
    expect(await run(['segments'], io3)).toBe(2);
    expect(io3.err()).toBe('crm: KAFKA_SASL_PASSWORD: needs KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL (it is PLAINTEXT)\n');
    expect(io.out() + io.err() + io2.err() + io3.err()).not.toMatch(/cli-secret/);
  });

  it('reports a missing file and a header that lacks mapped columns', async () => {
    const io = captureIo(offline, { cwd: dir });
    expect(await run(['import', 'orders', 'nope.csv', '--dry-run'], io)).toBe(1);
    expect(io.err()).toMatch(/^crm: cannot read nope\.csv: ENOENT/);
    writeFileSync(join(dir, 'other.csv'), 'a,b\n1,2\n');
    const io2 = captureIo(offline, { cwd: dir });
    expect(await run(['import', 'orders', 'other.csv', '--dry-run'], io2)).toBe(2);
    expect(io2.err()).toMatch(/^crm: the CSV header lacks "InvoiceNo" \(orderId\)/);
  });

  it('dry-runs an import without any server and counts every row', async () => {
    const file = join(dir, 'retail.csv');
    const expected = await writeRetailCsv(file, { rows: 5_000, seed: 7 });
    const io = captureIo(offline);
    expect(await run(['import', 'orders', file, '--dry-run', '--json'], io)).toBe(0);
    const s = JSON.parse(io.out()) as ImportSummary;
    expect(s.dryRun).toBe(true);
    expect({ rows: s.rows, orders: s.orders, rowsInOrders: s.rowsInOrders }).toEqual({
      rows: expected.rows,
      orders: expected.orders,
      rowsInOrders: expected.rowsInOrders,
    });
    expect(Object.fromEntries(Object.entries(s.skipped).filter(([, n]) => n > 0))).toEqual(expected.skipped);

    const text = captureIo(offline);
    expect(await run(['import', 'orders', file, '--dry-run'], text)).toBe(0);
    expect(text.out()).toContain(`orders           ${expected.orders.toLocaleString('en-US')} would be produced`);
    expect(text.out()).toMatch(/no_customer\s+[\d,]+\n/);
  });

  it('skips and counts a bad quote or an out-of-bounds date, and reads on', async () => {
    const file = join(dir, 'malformed.csv');
    const head = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
    const line = (invoice: number, description: string, date = '12/1/2010 8:26', quantity = '1') =>
      `${invoice},85123A,${description},${quantity},${date},1.00,17850,United Kingdom`;
    writeFileSync(
      file,
      [
        head,
        line(1, '12" RULER'), // a stray quote is data
        line(2, '"HEART "LARGE" HOLDER"'), // quotes inside quotes, not doubled: data too
        line(3, 'MUG', '1/1/9999 0:00'), // event_time_future
        line(4, 'MUG', '12/31/1999 23:59'), // event_time_too_old
        line(5, 'MUG', '12/1/2010 8:30', '"1'), // a quote left open in a mapped column...
        line(6, 'MUG'), // ...swallows this line...
        line(7, 'MUG', '12/1/2010 8:31', '1"'), // ...up to this one: three malformed lines
        line(8, 'MUG'),
        line(9, '"OPEN TO THE END'), // never closed: csv-parse's error, skipped
        line(10, 'MUG'),
        '',
      ].join('\n'),
    );
    const io = captureIo(offline);
    expect(await run(['import', 'orders', file, '--dry-run', '--json'], io), io.err()).toBe(0);
    const s = JSON.parse(io.out()) as ImportSummary;
    expect(Object.fromEntries(Object.entries(s.skipped).filter(([, n]) => n > 0))).toEqual({
      event_time_future: 1,
      event_time_too_old: 1,
      malformed_row: 5,
    });
    expect({ rows: s.rows, orders: s.orders, rowsInOrders: s.rowsInOrders }).toEqual({ rows: 10, orders: 3, rowsInOrders: 3 });
  });

  describe('dates and files that yield nothing', () => {
    const head = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
    const file = (name: string, dates: string[]) => {
      const path = join(dir, name);
      writeFileSync(path, [head, ...dates.map((date, i) => `${536365 + i},85123A,MUG,2,${date},1.50,17850,United Kingdom`), ''].join('\n'));
      return path;
    };
    const importing = async (path: string, ...flags: string[]) => {
      const io = captureIo(offline);
      const code = await run(['import', 'orders', path, '--dry-run', '--json', ...flags], io);
      return { code, summary: JSON.parse(io.out()) as ImportSummary, err: io.err() };
    };

    it('reads date-only and YYYYMMDD files (00:00 UTC) with auto, and with the named format', async () => {
      const iso = file('iso-dates.csv', ['2011-12-09', '2011-12-09', '2011-12-10']);
      const compact = file('compact-dates.csv', ['20111209', '20111209 13:45', '20111210']);
      for (const [path, format] of [
        [iso, 'auto'],
        [iso, 'iso'],
        [compact, 'auto'],
        [compact, 'yyyymmdd'],
      ] as const) {
        const { code, summary, err } = await importing(path, '--date-format', format);
        expect(code, err).toBe(0);
        expect(summary).toMatchObject({ rows: 3, orders: 3, rowsInOrders: 3 });
      }
    });

    it('exits 1 quoting the first unreadable cell when no order comes out of a file', async () => {
      const path = file('slash-dates.csv', ['9/12/2011', '9/12/2011', '10/12/2011']);
      const { code, summary, err } = await importing(path);
      expect(code).toBe(1);
      expect(summary).toMatchObject({ rows: 3, orders: 0 });
      // Only the failure line quotes a cell: the summary carries counts.
      expect(summary).not.toHaveProperty('firstSkipped');
      expect(err).toBe(
        'crm: no order produced: 3 of 3 rows skipped as bad_date; first at line 2, column InvoiceDate: "9/12/2011" ' +
          '(read with --date-format auto; formats: auto, iso, yyyymmdd, mdy, dmy)\n',
      );
      const dmy = await importing(path, '--date-format', 'dmy');
      expect(dmy.code, dmy.err).toBe(0);
      expect(dmy.summary.orders).toBe(3);
      const dayFirst = await importing(path, '--day-first');
      expect(dayFirst.summary.orders).toBe(3);
    });

    it('exits 1 when more than --max-skipped-ratio of the rows are unreadable for one reason', async () => {
      const path = file('mostly-bad.csv', ['12/9/2011 8:00', 'soon', 'later', '12/10/2011 8:00', 'never']);
      const { code, summary, err } = await importing(path);
      expect(code).toBe(1);
      expect(summary).toMatchObject({ rows: 5, orders: 2, skipped: { bad_date: 3 } });
      expect(err).toMatch(
        /^crm: more than --max-skipped-ratio 0.5 of the rows unreadable: 3 of 5 rows skipped as bad_date; first at line 3, column InvoiceDate: "soon"/,
      );
      expect((await importing(path, '--max-skipped-ratio', '0.6')).code).toBe(0);
    });

    it('refuses contradictory or impossible date and credit-note options', async () => {
      const path = file('one.csv', ['12/9/2011 8:00']);
      const io = captureIo(offline);
      expect(await run(['import', 'orders', path, '--dry-run', '--day-first', '--date-format', 'iso'], io)).toBe(2);
      expect(io.err()).toMatch(/--day-first means --date-format dmy/);
      const noProduct = captureIo(offline);
      expect(
        await run(
          [
            'import',
            'orders',
            path,
            '--dry-run',
            '--credit-notes',
            'refund',
            '--map',
            'InvoiceNo=orderId,CustomerID=customerId,InvoiceDate=time,UnitPrice=unitPrice',
          ],
          noProduct,
        ),
      ).toBe(2);
      expect(noProduct.err()).toMatch(/--credit-notes refund needs/);
      const badRatio = captureIo(offline);
      expect(await run(['import', 'orders', path, '--dry-run', '--max-skipped-ratio', '2'], badRatio)).toBe(2);
    });
  });

  it('runs as a command: node packages/cli/src/main.ts --help', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [main, '--help']);
    expect(stdout).toMatch(/^Usage: crm \[options\] \[command\]/);
    await expect(promisify(execFile)(process.execPath, [main, 'nonsense'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command 'nonsense'/),
    });
  });
});
