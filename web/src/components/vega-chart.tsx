// A Vega-Lite chart, with vega-embed loaded on first use (vega is most of the app's bytes; only the
// pages that chart pay for it). SVG renderer: crisp, and its marks can be counted by the browser tests.
import { useEffect, useRef, useState } from 'preact/hooks';

export function VegaChart({ spec, label }: { spec: Readonly<Record<string, unknown>>; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let finalize: (() => void) | undefined;
    let cancelled = false;
    setError(null);
    void (async () => {
      try {
        const { default: embed } = await import('vega-embed');
        if (cancelled || host.current === null) return;
        const dark = matchMedia('(prefers-color-scheme: dark)').matches;
        const result = await embed(host.current, spec as never, {
          renderer: 'svg',
          // The server's Content-Security-Policy forbids eval: vega interprets its expressions instead.
          ast: true,
          actions: { export: true, source: false, compiled: false, editor: false },
          ...(dark ? { theme: 'dark' as const } : {}),
        });
        if (cancelled) result.finalize();
        else finalize = () => result.finalize();
        host.current?.setAttribute('data-rendered', 'true');
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      cancelled = true;
      finalize?.();
      host.current?.removeAttribute('data-rendered');
    };
  }, [spec]);
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={label} />
      {error !== null && <div class="error" role="alert">Could not draw the chart: {error}</div>}
    </figure>
  );
}
