// Renders a Loadable: a status line while loading, the server's error (code and message) on failure.
import type { ComponentChildren } from 'preact';
import { ApiFailure } from '../api';
import type { Loadable } from '../use-api';

export function Async<T>({ value, children }: { value: Loadable<T>; children: (v: T) => ComponentChildren }) {
  switch (value.state) {
    case 'loading':
      return <p class="muted" role="status">Loading…</p>;
    case 'failed':
      return <ErrorBox error={value.error} />;
    case 'ok':
      return <>{children(value.value)}</>;
  }
}

export function ErrorBox({ error }: { error: Error }) {
  const code = error instanceof ApiFailure ? error.code : 'E_APP';
  return (
    <div class="error" role="alert">
      <strong>{code}</strong> {error.message}
    </div>
  );
}
