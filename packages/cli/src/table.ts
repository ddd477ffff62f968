/** Plain-text tables: left-aligned text, right-aligned numbers, two spaces between columns. */
export type Cell = string | number | null;

export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = (c: Cell): string => (c === null ? '-' : typeof c === 'number' ? c.toLocaleString('en-US') : c);
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i] ?? null).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((r) => line(header.map((_, i) => text(r[i] ?? null))))].join('\n');
}
