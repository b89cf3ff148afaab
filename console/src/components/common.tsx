/** Small pieces every view uses: an error box, a loader hook, dates, status badges, fact lists. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { Cancelled } from './otp';

/** An error as the API worded it, with its code; nothing for a cancelled code dialog. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof Cancelled)
    return (
      <p class="note" role="status">
        {error.message}
      </p>
    );
  const code = error instanceof ApiError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert">
      {message}
      {code && <code class="code"> {code}</code>}
    </div>
  );
}

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `key` changes or `reload()` is called; keeps the last data while loading. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `key` says when it means something else.
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

export function when(value: string | number | undefined): string {
  if (value === undefined || value === '') return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function Section({
  title,
  children,
  id,
}: {
  title: string;
  children: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Label and value pairs as a description list; pairs without a value are left out, `children` come last. */
export function FactList({
  facts,
  children,
}: {
  facts: Array<[string, string | undefined]>;
  children?: ComponentChildren;
}) {
  return (
    <dl class="facts">
      {facts
        .filter(([, value]) => value)
        .map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      {children}
    </dl>
  );
}

/**
 * "Previous page" and "Next page" over a cursor-paged list: `cursors` are those of the pages up to this one
 * (`[undefined]` on the first), so going back needs no cursor from the API.
 */
export function PageButtons({
  cursors,
  setCursors,
  nextCursor,
}: {
  cursors: Array<string | undefined>;
  setCursors: (cursors: Array<string | undefined>) => void;
  nextCursor: string | undefined;
}) {
  return (
    <div class="buttons">
      <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
        Previous page
      </button>
      <button type="button" disabled={!nextCursor} onClick={() => setCursors([...cursors, nextCursor])}>
        Next page
      </button>
    </div>
  );
}
