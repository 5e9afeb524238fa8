// A table whose column headers sort it (buttons, so the keyboard works; aria-sort says the order).
// The sort lives in the URL (?sort=col&desc=1) so a sorted table can be shared.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Cell } from '../../../src/ui/api';
import { cell, compareCells } from '../format';
import { navigate, useLocation, withQuery } from '../router';

export interface Row {
  readonly id: string;
  readonly cells: Readonly<Record<string, Cell>>;
}

export function sortRows<R extends Row>(rows: readonly R[], column: string | null, desc: boolean): R[] {
  if (column === null) return [...rows];
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => sign * compareCells(a.cells[column] ?? null, b.cells[column] ?? null));
}

/** Rows drawn in the first frame: more than a screen, few enough to draw at once on a slow machine. */
const FIRST_ROWS = 60;
/** Rows added per later frame, so a 500-row sweep is complete a few frames later and never blocks input. */
const MORE_ROWS = 200;

/**
 * How many of `total` rows to draw now: the first screenful at once, the rest in the frames after
 * (a long table's layout is what makes it slow; the first screen is what the reader sees). Starts
 * over when the rows change (a sort, a filter).
 */
function useProgressive(total: number, rows: unknown): number {
  const [shown, setShown] = useState(FIRST_ROWS);
  const drawing = useRef(rows);
  // New rows start over in this very render, rather than being drawn in full once first.
  const restart = drawing.current !== rows;
  drawing.current = rows;
  if (restart && shown !== FIRST_ROWS) setShown(FIRST_ROWS);
  const now = restart ? FIRST_ROWS : shown;
  useEffect(() => {
    if (now >= total) return;
    const frame = requestAnimationFrame(() => setShown(now + MORE_ROWS));
    return () => cancelAnimationFrame(frame);
  }, [now, total]);
  return Math.min(now, total);
}

export function SortableTable<R extends Row>(props: {
  caption: string;
  columns: readonly string[];
  rows: readonly R[];
  /** The first cell of each row (a link to the run, say). */
  head: (row: R) => ComponentChildren;
  headTitle: string;
  numeric: (column: string) => boolean;
  /** Called once every row is drawn. */
  onComplete?: (rows: number) => void;
}) {
  const loc = useLocation();
  const sort = loc.query.get('sort');
  const desc = loc.query.get('desc') === '1';
  const rows = useMemo(() => sortRows(props.rows, sort !== null && props.columns.includes(sort) ? sort : null, desc), [props.rows, sort, desc]);
  const shown = useProgressive(rows.length, rows);
  useEffect(() => {
    if (shown === rows.length) props.onComplete?.(rows.length);
  }, [shown, rows]);
  const toggle = (c: string) => navigate(withQuery(loc, { sort: c, desc: sort === c && !desc ? '1' : null }), { replace: true });
  return (
    <div class="table-scroll">
      <table class="data sweep" aria-rowcount={rows.length + 1} data-complete={shown === rows.length}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{props.headTitle}</th>
            {props.columns.map((c) => (
              <th key={c} scope="col" class={props.numeric(c) ? 'num' : ''} aria-sort={sort === c ? (desc ? 'descending' : 'ascending') : 'none'}>
                <button type="button" class="sort" onClick={() => toggle(c)}>
                  {c}
                  <span aria-hidden="true">{sort === c ? (desc ? ' ▼' : ' ▲') : ''}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, shown).map((r) => (
            <tr key={r.id}>
              <th scope="row">{props.head(r)}</th>
              {props.columns.map((c) => (
                <td key={c} class={props.numeric(c) ? 'num' : ''}>
                  {cell(r.cells[c] ?? null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
