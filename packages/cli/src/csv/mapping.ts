/**
 * Which CSV column holds which order field: a named preset, optionally amended by `--map
 * col=field,...`. Parsing of the `--map` list and the check against the file's header.
 */
import { CliError } from '../errors.ts';

/** The order fields a column can be mapped to. */
export const MAPPABLE_FIELDS = ['orderId', 'customerId', 'time', 'quantity', 'unitPrice', 'amount', 'storeId', 'productId'] as const;
export type MappableField = (typeof MAPPABLE_FIELDS)[number];

/** Field -> column name. */
export type ColumnMapping = Partial<Record<MappableField, string>>;

export interface Preset {
  mapping: ColumnMapping;
  /** Order ids starting with this are credit notes (returns), not orders. */
  creditPrefix: string | null;
  /** What the preset reads, for --help. */
  description: string;
}

/**
 * retail: the common retail transaction export (one row per invoice line), columns InvoiceNo,
 * StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country; invoice
 * numbers starting with 'C' are credit notes.
 */
export const PRESETS = {
  retail: {
    mapping: { orderId: 'InvoiceNo', customerId: 'CustomerID', time: 'InvoiceDate', quantity: 'Quantity', unitPrice: 'UnitPrice', productId: 'StockCode' },
    creditPrefix: 'C',
    description: 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country (one row per invoice line)',
  },
} as const satisfies Record<string, Preset>;
export type PresetName = keyof typeof PRESETS;

export function isPresetName(s: string): s is PresetName {
  return Object.hasOwn(PRESETS, s);
}

/** Parses `col=field,col=field` (column names may contain spaces; not commas or '='). */
export function parseMap(spec: string): ColumnMapping {
  const mapping: ColumnMapping = {};
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.lastIndexOf('=');
    const column = part.slice(0, eq).trim();
    const field = part.slice(eq + 1).trim();
    if (eq < 1 || column === '') throw new CliError(`--map: "${part}" is not column=field`, { exitCode: 2 });
    if (!(MAPPABLE_FIELDS as readonly string[]).includes(field)) {
      throw new CliError(`--map: unknown field "${field}" (fields: ${MAPPABLE_FIELDS.join(', ')})`, { exitCode: 2 });
    }
    mapping[field as MappableField] = column;
  }
  return mapping;
}

export interface ResolvedMapping {
  mapping: ColumnMapping & { orderId: string; customerId: string; time: string };
  creditPrefix: string | null;
}

/** The preset (if any) amended by the --map entries; checks that the fields an order needs are mapped. */
export function resolveMapping(preset: string | undefined, map: string | undefined): ResolvedMapping {
  if (preset === undefined && map === undefined) preset = 'retail';
  let base: Preset | undefined;
  if (preset !== undefined) {
    if (!isPresetName(preset)) throw new CliError(`unknown preset "${preset}" (presets: ${Object.keys(PRESETS).join(', ')})`, { exitCode: 2 });
    base = PRESETS[preset];
  }
  const mapping: ColumnMapping = { ...base?.mapping, ...(map === undefined ? {} : parseMap(map)) };
  const missing = (['orderId', 'customerId', 'time'] as const).filter((f) => mapping[f] === undefined);
  if (mapping.unitPrice === undefined && mapping.amount === undefined) missing.push('unitPrice or amount' as never);
  if (missing.length > 0) throw new CliError(`the column mapping lacks ${missing.join(', ')} (use --preset or --map col=field,...)`, { exitCode: 2 });
  return { mapping: mapping as ResolvedMapping['mapping'], creditPrefix: base?.creditPrefix ?? null };
}

/** Throws a CliError naming each mapped column the header lacks. */
export function checkHeader(mapping: ColumnMapping, header: readonly string[]): void {
  const have = new Set(header);
  const absent = Object.entries(mapping).filter(([, column]) => column !== undefined && !have.has(column));
  if (absent.length > 0) {
    throw new CliError(`the CSV header lacks ${absent.map(([field, column]) => `"${column}" (${field})`).join(', ')}; header: ${header.join(',')}`, {
      exitCode: 2,
    });
  }
}
