import { useMemo, useState } from "react";
import { Chart, type Line } from "../Chart";
import { grid, num, PALETTE, scaled, short } from "../format";
import { useQuery, usePager, useSubscription } from "../gql";

const PAGE = 48;

interface EpochRow {
  cursor: string;
  epoch: string;
  status: string;
  commitCount: number;
  revealCount: number;
  consensus: { value: string; lower: string; upper: string; forecasts: number } | null;
  truth: { value: string; status: string } | null;
  settlement: { cancelled: boolean; reward: string } | null;
}
interface FeedData {
  feed: { id: string; region: string; metric: string; decimals: number; epochLength: string; paused: boolean; pool: string } | null;
  epochs: EpochRow[];
  disputes: {
    epoch: string;
    disputer: string;
    proposedValue: string;
    bond: string;
    resolved: boolean;
    upheld: boolean | null;
    finalValue: string | null;
  }[];
}
interface ForecastRow {
  operator: string;
  epoch: string;
  value: string | null;
}

const FEED_QUERY = `query Feed($id: ID!, $feedId: String!, $after: String) {
  feed(id: $id) { id region metric decimals epochLength paused pool }
  epochs(first: ${PAGE}, orderBy: epoch, orderDirection: desc, where: {feedId: $feedId}, after: $after) {
    cursor epoch status commitCount revealCount
    consensus { value lower upper forecasts }
    truth { value status }
    settlement { cancelled reward }
  }
  disputes(first: 20, orderBy: epoch, orderDirection: desc, where: {feedId: $feedId}) {
    epoch disputer proposedValue bond resolved upheld finalValue
  }
}`;

// The operators to offer: those revealed for the page's newest epoch with reveals (bounded by the
// feed's max forecasts per epoch); their forecasts are fetched only once switched on.
const OPERATORS_QUERY = `query Ops($feedId: String!, $epoch: BigInt!) {
  forecasts(first: 200, orderBy: operator, where: {feedId: $feedId, epoch: $epoch, revealed: true}) { operator }
}`;
const FORECASTS_QUERY = `query Forecasts($feedId: String!, $lo: BigInt!, $hi: BigInt!, $ops: [String!]) {
  forecasts(first: 1000, orderBy: epoch,
            where: {feedId: $feedId, epoch_gte: $lo, epoch_lte: $hi, revealed: true, operator_in: $ops}) {
    operator epoch value
  }
}`;

export function Feed({ id }: { id: string }) {
  const pager = usePager();
  const q = useQuery<FeedData>(FEED_QUERY, { id, feedId: id, after: pager.after });
  const epochs = useMemo(() => [...(q.data?.epochs ?? [])].reverse(), [q.data]);
  const lo = epochs.length ? epochs[0].epoch : null;
  const hi = epochs.length ? epochs[epochs.length - 1].epoch : null;
  const revealed = [...epochs].reverse().find((e) => e.revealCount > 0)?.epoch ?? null;
  const oq = useQuery<{ forecasts: { operator: string }[] }>(revealed === null ? null : OPERATORS_QUERY, {
    feedId: id,
    epoch: revealed,
  });
  const [shown, setShown] = useState<Set<string>>(new Set());
  const picked = [...shown].sort();
  const fq = useQuery<{ forecasts: ForecastRow[] }>(lo === null || !picked.length ? null : FORECASTS_QUERY, {
    feedId: id,
    lo,
    hi,
    ops: picked,
  });
  const [live, setLive] = useState<string>("");
  const onEvent = (what: string) => (d: Record<string, { epoch: number }>) => {
    const ev = Object.values(d)[0];
    setLive(`${what} for epoch ${ev.epoch} at ${new Date().toLocaleTimeString()}`);
    if (pager.page === 1) {
      q.reload();
      oq.reload();
      fq.reload();
    }
  };
  useSubscription(`subscription { consensusUpdated(feedId: "${id}") { epoch block } }`, onEvent("New consensus"));
  useSubscription(`subscription { epochSettled(feedId: "${id}") { epoch block cancelled } }`, onEvent("Settlement"));

  const operators = useMemo(() => (oq.data?.forecasts ?? []).map((f) => f.operator), [oq.data]);
  const decimals = q.data?.feed?.decimals ?? 0;
  const chart = useMemo(() => {
    const x = epochs.map((e) => Number(e.epoch));
    const at = (f: (e: EpochRow) => string | null | undefined) => epochs.map((e) => scaled(f(e), decimals));
    const lines: Line[] = [
      { label: "p90 (upper)", values: at((e) => e.consensus?.upper), color: PALETTE.bandLine, width: 1 },
      { label: "p10 (lower)", values: at((e) => e.consensus?.lower), color: PALETTE.bandLine, width: 1 },
      { label: "consensus median", values: at((e) => e.consensus?.value), color: PALETTE.consensus, width: 2.5 },
      { label: "truth", values: at((e) => e.truth?.value), color: PALETTE.truth, width: 2, dash: [6, 4] },
    ];
    operators.forEach((op, i) => {
      if (!shown.has(op)) return;
      const byEpoch = new Map(
        (fq.data?.forecasts ?? []).filter((f) => f.operator === op).map((f) => [f.epoch, f.value]),
      );
      lines.push({
        label: short(op),
        values: epochs.map((e) => scaled(byEpoch.get(e.epoch), decimals)),
        color: PALETTE.operators[i % PALETTE.operators.length],
        width: 1.5,
        points: true,
      });
    });
    return { x, lines };
  }, [epochs, decimals, operators, shown, fq.data]);

  if (q.error) return <p role="alert">Could not load the feed: {q.error}</p>;
  if (!q.data) return <p aria-busy="true">Loading…</p>;
  const feed = q.data.feed;
  if (!feed) return <p role="alert">No feed {id}.</p>;
  const page = q.data.epochs;
  return (
    <section aria-labelledby="feed-h">
      <h1 id="feed-h">
        {feed.region} · {feed.metric}
      </h1>
      <p className="muted">
        {feed.epochLength} s epochs · pool {grid(feed.pool)} GRID · {feed.paused ? "paused" : "active"} ·{" "}
        <code>{short(feed.id)}</code>
      </p>
      <p aria-live="polite" data-testid="live-status" className="live">
        {live || "Live: waiting for the next consensus…"}
      </p>
      {epochs.length ? (
        <Chart
          title="Consensus median and p10–p90 band against the truth"
          xLabel="epoch"
          yLabel={feed.metric}
          x={chart.x}
          lines={chart.lines}
          band={[0, 1]}
          bandFill={PALETTE.band}
        />
      ) : (
        <p>No epoch has a forecast yet.</p>
      )}
      <fieldset className="toggles">
        <legend>Operators' forecasts on the chart</legend>
        {operators.length === 0 && <span className="muted">No revealed forecast on this page.</span>}
        {operators.map((op, i) => (
          <label key={op} style={{ borderColor: PALETTE.operators[i % PALETTE.operators.length] }}>
            <input
              type="checkbox"
              checked={shown.has(op)}
              onChange={(e) => {
                const next = new Set(shown);
                if (e.target.checked) next.add(op);
                else next.delete(op);
                setShown(next);
              }}
            />{" "}
            {short(op)}
          </label>
        ))}
      </fieldset>
      <nav className="pager" aria-label="Epoch pages">
        <button type="button" onClick={pager.prev} disabled={pager.page === 1}>
          Newer epochs
        </button>
        <span>page {pager.page}</span>
        <button
          type="button"
          onClick={() => pager.next(page[page.length - 1]?.cursor)}
          disabled={page.length < PAGE}
        >
          Older epochs
        </button>
      </nav>
      <h2>Epochs</h2>
      <table data-testid="epochs-table">
        <thead>
          <tr>
            <th scope="col">Epoch</th>
            <th scope="col">Status</th>
            <th scope="col">Commits / reveals</th>
            <th scope="col">Median</th>
            <th scope="col">p10 – p90</th>
            <th scope="col">Truth</th>
            <th scope="col">Settlement</th>
          </tr>
        </thead>
        <tbody>
          {page.map((e) => (
            <tr key={e.epoch} data-epoch={e.epoch}>
              <th scope="row">{e.epoch}</th>
              <td>
                <span className={`status status-${e.status}`}>{e.status}</span>
              </td>
              <td>
                {e.commitCount} / {e.revealCount}
              </td>
              <td>{e.consensus ? num(scaled(e.consensus.value, decimals)) : "–"}</td>
              <td>
                {e.consensus
                  ? `${num(scaled(e.consensus.lower, decimals))} – ${num(scaled(e.consensus.upper, decimals))}`
                  : "–"}
              </td>
              <td>{e.truth ? `${num(scaled(e.truth.value, decimals))} (${e.truth.status})` : "–"}</td>
              <td>{e.settlement ? (e.settlement.cancelled ? "cancelled" : `${grid(e.settlement.reward)} GRID`) : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Disputes</h2>
      {q.data.disputes.length === 0 ? (
        <p>No dispute.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Epoch</th>
              <th scope="col">Disputer</th>
              <th scope="col">Proposed</th>
              <th scope="col">Bond</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {q.data.disputes.map((d) => (
              <tr key={d.epoch}>
                <th scope="row">{d.epoch}</th>
                <td>{short(d.disputer)}</td>
                <td>{num(scaled(d.proposedValue, decimals))}</td>
                <td>{grid(d.bond)} GRID</td>
                <td>
                  {!d.resolved
                    ? "open"
                    : d.upheld
                      ? `upheld: ${num(scaled(d.finalValue, decimals))}`
                      : "rejected"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
