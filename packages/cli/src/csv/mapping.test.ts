import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.ts';
import { checkHeader, parseMap, resolveMapping } from './mapping.ts';

describe('column mapping', () => {
  it('defaults to the retail preset', () => {
    expect(resolveMapping(undefined, undefined)).toEqual({
      mapping: { orderId: 'InvoiceNo', customerId: 'CustomerID', time: 'InvoiceDate', quantity: 'Quantity', unitPrice: 'UnitPrice', productId: 'StockCode' },
      creditPrefix: 'C',
    });
  });
  it('amends a preset with --map (e.g. the newer export with "Customer ID" and "Price")', () => {
    const r = resolveMapping('retail', 'Invoice=orderId, Customer ID=customerId,Price=unitPrice');
    expect(r.mapping).toMatchObject({ orderId: 'Invoice', customerId: 'Customer ID', unitPrice: 'Price', time: 'InvoiceDate' });
    expect(r.creditPrefix).toBe('C');
  });
  it('takes a full mapping without preset (no credit notes then)', () => {
    expect(resolveMapping(undefined, 'order=orderId,cust=customerId,at=time,total=amount')).toEqual({
      mapping: { orderId: 'order', customerId: 'cust', time: 'at', amount: 'total' },
      creditPrefix: null,
    });
  });
  it('says what is wrong', () => {
    expect(() => parseMap('a=b')).toThrow(/unknown field "b"/);
    expect(() => parseMap('=orderId')).toThrow(CliError);
    expect(() => resolveMapping(undefined, 'order=orderId')).toThrow(/lacks customerId, time, unitPrice or amount/);
    expect(() => resolveMapping('wholesale', undefined)).toThrow(/unknown preset "wholesale"/);
    expect(() => checkHeader({ orderId: 'InvoiceNo', time: 'Date' }, ['InvoiceNo', 'InvoiceDate'])).toThrow(/lacks "Date" \(time\)/);
  });
});
