// A pipeline's DAG as SVG: one box per stage instance, coloured by its state, the stale reason under
// its id and in its tooltip; each box links to its run.
import type { DagNode, InstanceState, PipelineDag } from '../../../src/ui/api';
import { navigate } from '../router';
import { layout, NODE_H, NODE_W } from './dag-layout';

export const STATE_LABEL: Readonly<Record<InstanceState, string>> = {
  'up-to-date': 'up to date',
  stale: 'stale',
  running: 'running',
  failed: 'failed',
  'never-run': 'never run',
};

function subtitle(n: DagNode): string {
  if (n.state === 'running' && n.progress !== undefined) return `running · epoch ${n.progress.epoch}/${n.progress.epochs}`;
  if (n.reason !== undefined) return `${STATE_LABEL[n.state]}: ${n.reason}`;
  return STATE_LABEL[n.state];
}

export function Dag({ dag }: { dag: Pick<PipelineDag, 'nodes' | 'edges'> }) {
  const l = layout(dag);
  return (
    <div class="dag-scroll">
      <svg class="dag" width={l.width} height={l.height} viewBox={`0 0 ${l.width} ${l.height}`} role="img" aria-label={`DAG of ${dag.nodes.length} stage instances`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="dag-arrow" />
          </marker>
        </defs>
        {l.edges.map((e) => (
          <path key={`${e.from}→${e.to}`} d={e.d} class="dag-edge" marker-end="url(#arrow)" />
        ))}
        {l.nodes.map(({ node, x, y }) => {
          // An instance with no key yet (its upstream has not run) has no run page to open.
          const href = node.key === null ? undefined : `/runs/${node.key}`;
          return (
            <a
              key={node.id}
              {...(href === undefined ? {} : { href })}
              class={`dag-node state-${node.state}`}
              data-id={node.id}
              data-state={node.state}
              onClick={(e) => {
                if (href === undefined || e.button !== 0 || e.metaKey || e.ctrlKey) return;
                e.preventDefault();
                navigate(href);
              }}
            >
              <title>{`${node.id}\n${subtitle(node)}`}</title>
              <rect x={x} y={y} width={NODE_W} height={NODE_H} rx="6" />
              <text x={x + 10} y={y + 19} class="dag-id">
                {clip(node.id, 32)}
              </text>
              <text x={x + 10} y={y + 36} class="dag-sub">
                {clip(subtitle(node), 36)}
              </text>
            </a>
          );
        })}
      </svg>
    </div>
  );
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
