// The server's live stream (/api/live, server-sent events) as state: per run key, its latest
// progress and state. EventSource reconnects by itself; the page shows whether it is connected.
import { useEffect, useState } from 'preact/hooks';
import type { InstanceState, LiveEvent, LiveProgress } from '../../src/ui/api';
import { withToken } from './api';

export interface LiveRun {
  readonly key: string;
  readonly id: string | null;
  readonly progress?: LiveProgress;
  readonly state?: InstanceState;
  /** When this page last heard of it (ms since the epoch). */
  readonly seenAt: number;
}

export interface Live {
  readonly connected: boolean;
  readonly runs: ReadonlyMap<string, LiveRun>;
}

export function useLive(): Live {
  const [live, setLive] = useState<Live>({ connected: false, runs: new Map() });
  useEffect(() => {
    const source = new EventSource(withToken('/api/live'));
    source.onopen = () => setLive((l) => ({ ...l, connected: true }));
    source.onerror = () => setLive((l) => ({ ...l, connected: false }));
    source.onmessage = (m: MessageEvent<string>) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(m.data) as LiveEvent;
      } catch {
        return;
      }
      setLive((l) => apply(l, event));
    };
    return () => source.close();
  }, []);
  return live;
}

function apply(l: Live, e: LiveEvent): Live {
  switch (e.type) {
    case 'hello':
      return { ...l, connected: true };
    case 'progress':
    case 'state': {
      const runs = new Map(l.runs);
      const before = runs.get(e.key);
      runs.set(e.key, {
        ...before,
        key: e.key,
        id: e.id ?? before?.id ?? null,
        ...(e.type === 'progress' ? { progress: e.progress, state: 'running' as const } : { state: e.state }),
        seenAt: Date.now(),
      });
      return { connected: true, runs };
    }
  }
}
