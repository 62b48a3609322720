import { useEffect, useState } from "react";
import { num, scaled, grid } from "../format";
import { useQuery, useSubscription } from "../gql";

interface FeedRow {
  id: string;
  region: string;
  metric: string;
  resolutionSeconds: string;
  epochLength: string;
  decimals: number;
  paused: boolean;
  pool: string;
  consensuses: { epoch: string; value: string; lower: string; upper: string }[];
}
interface Data {
  _meta: { block: { number: number; hash: string | null; timestamp: string | null }; deployment: string; hasIndexingErrors: boolean };
  feeds: FeedRow[];
}

const QUERY = `{
  _meta { block { number hash timestamp } deployment hasIndexingErrors }
  feeds(first: 50, orderBy: region) {
    id region metric resolutionSeconds epochLength decimals paused pool
    consensuses(first: 1, orderBy: epoch, orderDirection: desc) { epoch value lower upper }
  }
}`;

export function Overview() {
  const q = useQuery<Data>(QUERY);
  const [head, setHead] = useState<number | null>(null);
  const refreshHead = () =>
    fetch("/dashboard/head.json")
      .then((r) => r.json())
      .then((b: { head: number | null }) => setHead(b.head))
      .catch(() => setHead(null));
  useEffect(() => {
    void refreshHead();
  }, []);
  useSubscription<{ newBlock: { number: number } }>("subscription { newBlock { number events } }", () => {
    q.reload();
    void refreshHead();
  });
  if (q.error) return <p role="alert">Could not load the overview: {q.error}</p>;
  if (!q.data) return <p aria-busy="true">Loading…</p>;
  const meta = q.data._meta;
  const indexed = meta.block.number;
  const lag = head === null ? null : Math.max(0, head - indexed);
  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <dl className="stats">
        <div>
          <dt>Chain head</dt>
          <dd data-testid="head-block">{head ?? "–"}</dd>
        </div>
        <div>
          <dt>Indexed block</dt>
          <dd data-testid="indexed-block">{indexed}</dd>
        </div>
        <div>
          <dt>Indexer lag</dt>
          <dd data-testid="indexer-lag">{lag === null ? "–" : `${lag} blocks`}</dd>
        </div>
        <div>
          <dt>Indexing errors</dt>
          <dd>{meta.hasIndexingErrors ? "yes" : "none"}</dd>
        </div>
      </dl>
      <h2>Feeds</h2>
      <table>
        <caption className="sr-only">Feeds with their latest consensus</caption>
        <thead>
          <tr>
            <th scope="col">Feed</th>
            <th scope="col">Epoch length</th>
            <th scope="col">Latest consensus (epoch)</th>
            <th scope="col">Median</th>
            <th scope="col">p10 – p90</th>
            <th scope="col">Reward pool</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {q.data.feeds.map((f) => {
            const c = f.consensuses[0];
            return (
              <tr key={f.id}>
                <th scope="row">
                  <a href={`#/feed/${f.id}`}>
                    {f.region} · {f.metric}
                  </a>
                </th>
                <td>{f.epochLength} s</td>
                <td>{c ? c.epoch : "–"}</td>
                <td>{c ? num(scaled(c.value, f.decimals)) : "–"}</td>
                <td>{c ? `${num(scaled(c.lower, f.decimals))} – ${num(scaled(c.upper, f.decimals))}` : "–"}</td>
                <td>{grid(f.pool)} GRID</td>
                <td>{f.paused ? "paused" : "active"}</td>
              </tr>
            );
          })}
          {q.data.feeds.length === 0 && (
            <tr>
              <td colSpan={7}>No feed registered yet.</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
