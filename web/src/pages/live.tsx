// Runs in progress, updated from the server's event stream without reloading: epoch, loss,
// accuracy, ETA; and the state changes heard since the page opened.
import { STATE_LABEL } from '../components/dag';
import { duration, num } from '../format';
import { Link } from '../router';
import { useLive } from '../use-live';

export function LivePage() {
  const live = useLive();
  const runs = [...live.runs.values()];
  const running = runs.filter((r) => r.state === 'running');
  const done = runs.filter((r) => r.state !== 'running').sort((a, b) => b.seenAt - a.seenAt);
  return (
    <>
      <h1>Live</h1>
      <p class="muted" role="status">
        {live.connected ? 'Connected: updates as runs report progress.' : 'Connecting to the server…'}
      </p>
      <h2>Running</h2>
      {running.length === 0 ? (
        <p>Nothing is running. Start <code>rethink run</code> in another terminal; its stages appear here.</p>
      ) : (
        <table class="data live">
          <caption class="sr-only">Running stages</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Epoch</th>
              <th scope="col" class="num">Loss</th>
              <th scope="col" class="num">Accuracy</th>
              <th scope="col" class="num">ETA</th>
              <th scope="col">Where</th>
            </tr>
          </thead>
          <tbody>
            {running.map((r) => {
              const p = r.progress;
              return (
                <tr key={r.key} data-key={r.key}>
                  <th scope="row">
                    <Link href={`/runs/${r.key}`}>{r.id ?? r.key.slice(0, 12)}</Link>
                  </th>
                  <td>
                    {p === undefined ? (
                      '—'
                    ) : (
                      <>
                        <span class="epoch">{p.epoch}</span>/{p.epochs} <progress max={p.epochs} value={p.epoch} aria-label="epochs done" />
                      </>
                    )}
                  </td>
                  <td class="num">{p?.loss === undefined ? '—' : num(p.loss)}</td>
                  <td class="num">{p?.acc === undefined ? '—' : num(p.acc)}</td>
                  <td class="num">{p?.etaSeconds === undefined ? '—' : duration(p.etaSeconds)}</td>
                  <td>{p?.where ?? ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {done.length > 0 && (
        <>
          <h2>Finished since this page opened</h2>
          <ul>
            {done.map((r) => (
              <li key={r.key}>
                <Link href={`/runs/${r.key}`}>{r.id ?? r.key.slice(0, 12)}</Link>: {r.state === undefined ? '' : STATE_LABEL[r.state]}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
