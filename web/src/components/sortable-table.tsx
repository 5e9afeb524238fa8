// A table whose column headers sort it (buttons, so the keyboard works; aria-sort says the order).
// The sort lives in the URL (?sort=col&desc=1) so a sorted table can be shared.
import type { ComponentChildren } from 'preact';
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

export function SortableTable<R extends Row>(props: {
  caption: string;
  columns: readonly string[];
  rows: readonly R[];
  /** The first cell of each row (a link to the run, say). */
  head: (row: R) => ComponentChildren;
  headTitle: string;
  numeric: (column: string) => boolean;
}) {
  const loc = useLocation();
  const sort = loc.query.get('sort');
  const desc = loc.query.get('desc') === '1';
  const rows = sortRows(props.rows, sort !== null && props.columns.includes(sort) ? sort : null, desc);
  const toggle = (c: string) => navigate(withQuery(loc, { sort: c, desc: sort === c && !desc ? '1' : null }), { replace: true });
  return (
    <table class="data sweep">
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
        {rows.map((r) => (
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
  );
}
