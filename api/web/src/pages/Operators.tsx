import { useMemo, useState } from "react";
import { Chart } from "../Chart";
import { grid, num, PALETTE, pct, scaled, short } from "../format";
import { useQuery, usePager, useSubscription } from "../gql";

const PAGE = 20;

interface OpRow {
  cursor: string;
  id: string;
  totalRewards: string;
  totalSlashed: string;
  forecastsRevealed: number;
  stake: { active: string; unbonding: string } | null;
  accuracy: { meanAbsError: number | null; intervalHitRate: number | null; scored: number; mase: number | null } | null;
}

const SORTS: Record<string, string> = {
  totalRewards: "Rewards",
  totalSlashed: "Slashed",
  forecastsRevealed: "Forecasts revealed",
};

export function Operators() {
  const [sort, setSort] = useState("totalRewards");
  const pager = usePager();
  const q = useQuery<{ operators: OpRow[] }>(
    `query Ops($after: String) {
      operators(first: ${PAGE}, orderBy: ${sort}, orderDirection: desc, after: $after) {
        cursor id totalRewards totalSlashed forecastsRevealed
        stake { active unbonding }
        accuracy { meanAbsError intervalHitRate scored mase }
      }
    }`,
    { after: pager.after },
  );
  useSubscription("subscription { newBlock { number } }", () => pager.page === 1 && q.reload());
  const [byMase, setByMase] = useState(false);
  if (q.error) return <p role="alert">Could not load operators: {q.error}</p>;
  const rows = q.data?.operators ?? [];
  // MASE is computed per operator by the API, not a column it can order by: this sorts the rows of
  // the page shown (lowest MASE first, operators without one last), never the whole leaderboard.
  const ranked = rows.map((o, i) => ({ o, rank: (pager.page - 1) * PAGE + i + 1 }));
  const shown = byMase
    ? [...ranked].sort((a, b) => (a.o.accuracy?.mase ?? Infinity) - (b.o.accuracy?.mase ?? Infinity) || a.rank - b.rank)
    : ranked;
  return (
    <section aria-labelledby="ops-h">
      <h1 id="ops-h">Operators</h1>
      <label className="inline">
        Rank by{" "}
        <select
          value={sort}
          onChange={(e) => {
            setSort(e.target.value);
            pager.reset();
          }}
        >
          {Object.entries(SORTS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="link" aria-pressed={byMase} onClick={() => setByMase(!byMase)}>
        Sort this page by MASE
      </button>
      <span className="muted"> (lowest first; sorts the operators shown on this page only)</span>
      <table data-testid="leaderboard">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Operator</th>
            <th scope="col">Stake</th>
            <th scope="col">Unbonding</th>
            <th scope="col">Rewards</th>
            <th scope="col">Slashed</th>
            <th scope="col">Scored</th>
            <th scope="col">
              <abbr title="Mean absolute scaled error: below 1 beats the seasonal-naive forecast">MASE</abbr>
            </th>
            <th scope="col">Mean abs. error</th>
            <th scope="col">Interval coverage</th>
          </tr>
        </thead>
        <tbody>
          {shown.map(({ o, rank }) => (
            <tr key={o.id} data-operator={o.id}>
              <td>{rank}</td>
              <th scope="row">
                <a href={`#/operator/${o.id}`}>{short(o.id)}</a>
              </th>
              <td>{grid(o.stake?.active)}</td>
              <td>{grid(o.stake?.unbonding)}</td>
              <td>{grid(o.totalRewards)}</td>
              <td>{grid(o.totalSlashed)}</td>
              <td>{o.accuracy?.scored ?? 0}</td>
              <td data-testid="mase">{num(o.accuracy?.mase, 3)}</td>
              <td>{num(o.accuracy?.meanAbsError, 1)}</td>
              <td>{pct(o.accuracy?.intervalHitRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Amounts in GRID; mean absolute error in the feeds' on-chain units. MASE divides each absolute error
        by the in-sample error of the seasonal-naive forecast (one day of epochs) of the feed's settled
        truths, so it compares across feeds: below 1 beats the naive forecast.
      </p>
      <nav className="pager" aria-label="Leaderboard pages">
        <button type="button" onClick={pager.prev} disabled={pager.page === 1}>
          Previous
        </button>
        <span>page {pager.page}</span>
        <button type="button" onClick={() => pager.next(rows[rows.length - 1]?.cursor)} disabled={rows.length < PAGE}>
          Next
        </button>
      </nav>
    </section>
  );
}

interface OperatorData {
  operator: {
    id: string;
    signer: string | null;
    totalRewards: string;
    totalSlashed: string;
    rewardBalance: string;
    forecastsCommitted: number;
    forecastsRevealed: number;
    stake: { active: string; unbonding: string; releaseAt: string | null } | null;
    accuracy: { meanAbsError: number | null; intervalHitRate: number | null; scored: number; mase: number | null } | null;
    stakes: { id: string; kind: string; amount: string; totalStake: string | null; blockNumber: string }[];
    rewards: { id: string; kind: string; amount: string; epoch: string | null; blockNumber: string }[];
    slashes: { id: string; amount: string; epoch: string | null; blockNumber: string }[];
  } | null;
  feeds: { id: string; region: string; metric: string; decimals: number }[];
}
interface FRow {
  cursor: string;
  feedId: string;
  epoch: string;
  value: string | null;
  lower: string | null;
  upper: string | null;
  absError: string | null;
  inInterval: boolean | null;
  reward: string | null;
  slashed: string | null;
}

export function OperatorPage({ id }: { id: string }) {
  const q = useQuery<OperatorData>(
    `query Op($id: ID!) {
      operator(id: $id) {
        id signer totalRewards totalSlashed rewardBalance forecastsCommitted forecastsRevealed
        stake { active unbonding releaseAt }
        accuracy { meanAbsError intervalHitRate scored mase }
        stakes(first: 20, orderBy: blockNumber, orderDirection: desc) { id kind amount totalStake blockNumber }
        rewards(first: 20, orderBy: blockNumber, orderDirection: desc) { id kind amount epoch blockNumber }
        slashes(first: 20, orderBy: blockNumber, orderDirection: desc) { id amount epoch blockNumber }
      }
      feeds(first: 50, orderBy: region) { id region metric decimals }
    }`,
    { id: id.toLowerCase() },
  );
  const [feedId, setFeedId] = useState<string | null>(null);
  const feeds = q.data?.feeds ?? [];
  const feed = feeds.find((f) => f.id === feedId) ?? feeds[0];
  const pager = usePager();
  const fq = useQuery<{ forecasts: FRow[] }>(
    feed
      ? `query F($op: String!, $feedId: String!, $after: String) {
          forecasts(first: 50, orderBy: epoch, orderDirection: desc, after: $after,
                    where: {operator: $op, feedId: $feedId, revealed: true}) {
            cursor feedId epoch value lower upper absError inInterval reward slashed
          }
        }`
      : null,
    { op: id.toLowerCase(), feedId: feed?.id, after: pager.after },
  );
  const rows = fq.data?.forecasts ?? [];
  const chart = useMemo(() => {
    const asc = [...rows].reverse();
    const d = feed?.decimals ?? 0;
    return {
      x: asc.map((r) => Number(r.epoch)),
      lines: [
        { label: "upper", values: asc.map((r) => scaled(r.upper, d)), color: PALETTE.bandLine, width: 1 },
        { label: "lower", values: asc.map((r) => scaled(r.lower, d)), color: PALETTE.bandLine, width: 1 },
        { label: "forecast", values: asc.map((r) => scaled(r.value, d)), color: PALETTE.operators[0], width: 2 },
        { label: "abs. error", values: asc.map((r) => scaled(r.absError, d)), color: PALETTE.operators[3], width: 1.5, dash: [4, 3] },
      ],
    };
  }, [rows, feed]);
  if (q.error) return <p role="alert">Could not load the operator: {q.error}</p>;
  if (!q.data) return <p aria-busy="true">Loading…</p>;
  const op = q.data.operator;
  if (!op) return <p role="alert">No operator {id}.</p>;
  return (
    <section aria-labelledby="op-h">
      <h1 id="op-h">
        Operator <code>{short(op.id)}</code>
      </h1>
      <dl className="stats">
        <div><dt>Stake</dt><dd>{grid(op.stake?.active)} GRID</dd></div>
        <div><dt>Unbonding</dt><dd>{grid(op.stake?.unbonding)} GRID</dd></div>
        <div><dt>Rewards</dt><dd>{grid(op.totalRewards)} GRID</dd></div>
        <div><dt>Slashed</dt><dd>{grid(op.totalSlashed)} GRID</dd></div>
        <div><dt>Forecasts revealed</dt><dd>{op.forecastsRevealed} / {op.forecastsCommitted}</dd></div>
        <div><dt>MASE</dt><dd data-testid="operator-mase">{num(op.accuracy?.mase, 3)}</dd></div>
        <div><dt>Interval coverage</dt><dd>{pct(op.accuracy?.intervalHitRate)}</dd></div>
      </dl>
      <label className="inline">
        Feed{" "}
        <select value={feed?.id ?? ""} onChange={(e) => { setFeedId(e.target.value); pager.reset(); }}>
          {feeds.map((f) => (
            <option key={f.id} value={f.id}>
              {f.region} · {f.metric}
            </option>
          ))}
        </select>
      </label>
      {rows.length ? (
        <Chart title="Forecasts, interval and absolute error per epoch" xLabel="epoch" yLabel={feed?.metric ?? ""} x={chart.x} lines={chart.lines} band={[0, 1]} bandFill={PALETTE.band} />
      ) : (
        <p>No revealed forecast on this feed.</p>
      )}
      <nav className="pager" aria-label="Forecast pages">
        <button type="button" onClick={pager.prev} disabled={pager.page === 1}>Newer</button>
        <span>page {pager.page}</span>
        <button type="button" onClick={() => pager.next(rows[rows.length - 1]?.cursor)} disabled={rows.length < 50}>Older</button>
      </nav>
      <h2>Stake history</h2>
      <table>
        <thead><tr><th scope="col">Block</th><th scope="col">Event</th><th scope="col">Amount</th><th scope="col">Stake after</th></tr></thead>
        <tbody>
          {op.stakes.map((s) => (
            <tr key={s.id}><td>{s.blockNumber}</td><td>{s.kind}</td><td>{grid(s.amount)}</td><td>{grid(s.totalStake)}</td></tr>
          ))}
        </tbody>
      </table>
      <h2>Rewards and slashes</h2>
      <table>
        <thead><tr><th scope="col">Block</th><th scope="col">Kind</th><th scope="col">Epoch</th><th scope="col">Amount</th></tr></thead>
        <tbody>
          {[...op.rewards.map((r) => ({ ...r, kind: r.kind })), ...op.slashes.map((s) => ({ ...s, kind: "slash" }))]
            .sort((a, b) => Number(b.blockNumber) - Number(a.blockNumber))
            .map((r) => (
              <tr key={r.id}><td>{r.blockNumber}</td><td>{r.kind}</td><td>{r.epoch ?? "–"}</td><td>{grid(r.amount)}</td></tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
