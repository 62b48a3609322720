// GraphQL over HTTP (queries) and graphql-ws (subscriptions), both on the page's own origin.
import { createClient, type Client } from "graphql-ws";
import { useEffect, useRef, useState } from "react";

export class GqlError extends Error {}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await r.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new GqlError(body.errors.map((e) => e.message).join("; "));
  if (!body.data) throw new GqlError(`GraphQL request failed with HTTP ${r.status}`);
  return body.data;
}

let ws: Client | null = null;
export function wsClient(): Client {
  if (!ws) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = createClient({
      url: `${proto}//${location.host}/graphql`,
      retryAttempts: 20,
      lazy: true,
    });
  }
  return ws;
}

/** Calls `onEvent` for each event of `query` while the component is mounted. */
export function useSubscription<T>(query: string | null, onEvent: (data: T) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!query) return;
    return wsClient().subscribe<T>(
      { query },
      {
        next: (msg) => msg.data && handler.current(msg.data as T),
        error: () => undefined, // the client retries; pages keep their last data
        complete: () => undefined,
      },
    );
  }, [query]);
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `query` when it (or `variables`) change, and again on `reload()`. */
export function useQuery<T>(query: string | null, variables: Record<string, unknown> = {}): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!query) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    gql<T>(query, JSON.parse(key) as Record<string, unknown>)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((e: unknown) => live && setState((s) => ({ ...s, error: String((e as Error).message ?? e), loading: false })));
    return () => {
      live = false;
    };
  }, [query, key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Cursor paging: a stack of `after` cursors so both directions work. */
export function usePager() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  return {
    after: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string | null | undefined) => cursor && setStack((s) => [...s, cursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([null]),
  };
}
