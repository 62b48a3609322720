// The exchange: one market's books per delivery epoch (band, volumes, uniform clearing price),
// the clearing price per epoch on a chart, a book's depth, trades and imbalances; all paged.
import { Fragment, useMemo, useState } from "react";
import { Chart } from "../Chart";
import { PALETTE, short, units, wh } from "../format";
import { gql, useQuery, usePager, useSubscription } from "../gql";
import { useWalletUi, WalletBar, walletModule, type WalletUi } from "../walletUi";

const PAGE = 24;

interface Market {
  id: string;
  feedId: string;
  renewableOnly: boolean;
  feed: { region: string; metric: string } | null;
}
interface Book {
  cursor: string;
  id: string;
  epoch: string;
  status: string;
  voided: boolean;
  bandLow: string;
  bandHigh: string;
  openBuys: number;
  openSells: number;
  cancelled: number;
  buyVolumeWh: string;
  sellVolumeWh: string;
  price: string | null;
  volumeWh: string | null;
  clearing: { low: string; high: string } | null;
}
interface Trade {
  id: string;
  epoch: string;
  trader: string;
  side: string;
  voided: boolean;
  price: string | null;
  filledWh: string;
  deliveredWh: string;
  amount: string;
  adjustment: string;
  blockNumber: string;
}
interface Imbalance {
  id: string;
  epoch: string;
  seller: string;
  assetId: string;
  shortfallWh: string;
  penalty: string;
}
interface Level {
  price: string;
  volumeWh: string;
  orders: number;
  cumulativeWh: string;
}

const MARKETS = `{ exchangeMarkets(first: 50, orderBy: feedId) { id feedId renewableOnly feed { region metric } } }`;
const BOOKS = `query Books($m: String!, $after: String) {
  exchangeBooks(first: ${PAGE}, orderBy: epoch, orderDirection: desc, after: $after, where: {marketId: $m}) {
    cursor id epoch status voided bandLow bandHigh openBuys openSells cancelled buyVolumeWh sellVolumeWh
    price volumeWh clearing { low high }
  }
  exchangeTrades(first: 20, orderBy: blockNumber, orderDirection: desc, where: {marketId: $m}) {
    id epoch trader side voided price filledWh deliveredWh amount adjustment blockNumber
  }
  exchangeImbalances(first: 20, orderBy: blockNumber, orderDirection: desc, where: {marketId: $m}) {
    id epoch seller assetId shortfallWh penalty
  }
}`;
const DEPTH = `query Depth($id: ID!) {
  exchangeBook(id: $id) {
    buys: depth(side: "buy", first: 20) { price volumeWh orders cumulativeWh }
    sells: depth(side: "sell", first: 20) { price volumeWh orders cumulativeWh }
  }
}`;

function marketName(m: Market): string {
  const f = m.feed ? `${m.feed.region} · ${m.feed.metric}` : short(m.feedId);
  return m.renewableOnly ? `${f} (renewable only)` : f;
}

function Depth({ id }: { id: string }) {
  const q = useQuery<{ exchangeBook: { buys: Level[]; sells: Level[] } | null }>(DEPTH, { id });
  if (q.error) return <p role="alert">Could not load the depth: {q.error}</p>;
  if (!q.data?.exchangeBook) return <p aria-busy="true">Loading the depth…</p>;
  const side = (label: string, levels: Level[]) => (
    <table data-testid={`depth-${label}`}>
      <caption>{label === "buy" ? "Bids (highest first)" : "Offers (lowest first)"}</caption>
      <thead>
        <tr><th scope="col">Limit price</th><th scope="col">Volume</th><th scope="col">Orders</th><th scope="col">Cumulative</th></tr>
      </thead>
      <tbody>
        {levels.map((l) => (
          <tr key={l.price}><td>{units(l.price)}</td><td>{wh(l.volumeWh)}</td><td>{l.orders}</td><td>{wh(l.cumulativeWh)}</td></tr>
        ))}
        {levels.length === 0 && <tr><td colSpan={4}>None.</td></tr>}
      </tbody>
    </table>
  );
  return (
    <div className="depth">
      {side("buy", q.data.exchangeBook.buys)}
      {side("sell", q.data.exchangeBook.sells)}
    </div>
  );
}

interface MyOrder {
  id: string;
  epoch: string;
  index: string;
  volumeWh: string;
  limitPrice: string;
  locked: string;
}

interface OwnAsset {
  id: string;
  kind: string;
  renewable: boolean;
}

/** Offers from an asset the connected wallet owns: approve the collateral (volume x the book's
 * penalty per Wh, or the market's while the book is not open yet), then placeSell. */
function Sell({ w, market, openEpoch, onDone }: { w: WalletUi; market: Market; openEpoch: string | null; onDone: () => void }) {
  const owned = useQuery<{ assets: OwnAsset[] }>(
    `query Own($o: String!, $f: String!) { assets(first: 50, orderBy: registeredBlock, where: {owner: $o, feedId: $f}) { id kind renewable } }`,
    { o: w.account?.toLowerCase(), f: market.feedId },
  );
  useSubscription("subscription { newBlock { number } }", () => owned.reload());
  const assets = (owned.data?.assets ?? []).filter((a) => a.kind !== "load" && (!market.renewableOnly || a.renewable));
  const [pick, setPick] = useState("");
  const [epoch, setEpoch] = useState("");
  const [volume, setVolume] = useState("100");
  const [limit, setLimit] = useState("");
  const asset = assets.find((a) => a.id === pick) ?? assets[0];
  const ex = w.config?.contracts.EnergyExchange;
  const token = w.config?.contracts.GridToken;
  const effectiveEpoch = epoch || openEpoch || "";
  if (owned.data && assets.length === 0) {
    return <p data-testid="no-sell-asset">You own no asset that can sell in this market.</p>;
  }
  return (
    <form className="stake" onSubmit={(e) => e.preventDefault()} aria-labelledby="sell-h">
      <h3 id="sell-h">Offer from your asset</h3>
      <label htmlFor="sell-asset">Asset</label>
      <select id="sell-asset" value={asset?.id ?? ""} onChange={(e) => setPick(e.target.value)}>
        {assets.map((a) => (
          <option key={a.id} value={a.id}>#{a.id} ({a.kind})</option>
        ))}
      </select>
      <label>Offer epoch <input name="sell-epoch" inputMode="numeric" value={effectiveEpoch} onChange={(e) => setEpoch(e.target.value)} /></label>
      <label>Offer volume (Wh) <input name="sell-volume" inputMode="numeric" value={volume} onChange={(e) => setVolume(e.target.value)} /></label>
      <label>Offer limit price (base units per Wh) <input name="sell-limit" inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} /></label>
      <button
        type="button"
        disabled={w.busy || !asset || !ex || !token || !effectiveEpoch || !limit}
        onClick={() =>
          w.run("Offering", async () => {
            const { call } = await walletModule();
            const a = w.account!;
            const vol = BigInt(volume || "0");
            const price = BigInt(limit || "0");
            const p = await gql<{ exchangeBook: { penaltyPerWh: string } | null; exchangeMarket: { penaltyPerWh: string | null } | null }>(
              `query Penalty($b: ID!, $m: ID!) { exchangeBook(id: $b) { penaltyPerWh } exchangeMarket(id: $m) { penaltyPerWh } }`,
              { b: `${market.id}-${effectiveEpoch}`, m: market.id },
            );
            const penalty = BigInt(p.exchangeBook?.penaltyPerWh ?? p.exchangeMarket?.penaltyPerWh ?? "0");
            await call(a, token!, "approve", [ex!.address, vol * penalty]);
            const hash = await call(a, ex!, "placeSell", [market.id, BigInt(effectiveEpoch), BigInt(asset!.id), vol, price]);
            onDone();
            return `Offer of ${volume} Wh from asset #${asset!.id} in epoch ${effectiveEpoch} placed with ${units(String(vol * penalty))} collateral (transaction ${hash.slice(0, 10)}…); it appears here once indexed.`;
          })
        }
      >
        Place offer
      </button>
    </form>
  );
}

/** Bids from the connected wallet (approve the escrow, placeBuy), offers from its assets (Sell)
 * and cancels of its open orders. */
function Bid({ market, openEpoch, onDone }: { market: Market; openEpoch: string | null; onDone: () => void }) {
  const w: WalletUi = useWalletUi();
  const [epoch, setEpoch] = useState(openEpoch ?? "");
  const [volume, setVolume] = useState("100");
  const [limit, setLimit] = useState("");
  const mine = useQuery<{ exchangeOrders: MyOrder[] }>(
    w.account
      ? `query Mine($m: String!, $t: String!) { exchangeOrders(first: 20, orderBy: epoch, orderDirection: desc,
          where: {marketId: $m, trader: $t, status: "open"}) { id epoch index volumeWh limitPrice locked } }`
      : null,
    { m: market.id, t: w.account?.toLowerCase() },
  );
  useSubscription(w.account ? "subscription { newBlock { number } }" : null, () => mine.reload());
  const ex = w.config?.contracts.EnergyExchange;
  const token = w.config?.contracts.GridToken;
  const ready = Boolean(w.account && ex && token) && !w.busy;
  const effectiveEpoch = epoch || openEpoch || "";
  return (
    <section aria-labelledby="bid-h" className="wallet-box">
      <h2 id="bid-h">Trade from your wallet</h2>
      {w.config && !ex && <p role="alert">This deployment has no exchange: trading is unavailable.</p>}
      <WalletBar w={w} testId="exchange" />
      {!market.renewableOnly && (
      <form className="stake" onSubmit={(e) => e.preventDefault()} aria-label="Bid">
        <label>Delivery epoch <input name="epoch" inputMode="numeric" value={effectiveEpoch} onChange={(e) => setEpoch(e.target.value)} /></label>
        <label>Volume (Wh) <input name="volume" inputMode="numeric" value={volume} onChange={(e) => setVolume(e.target.value)} /></label>
        <label>Limit price (base units per Wh) <input name="limit" inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} /></label>
        <button
          type="button"
          disabled={!ready || !effectiveEpoch || !limit}
          onClick={() =>
            w.run("Bidding", async () => {
              const { call } = await walletModule();
              const a = w.account!;
              const vol = BigInt(volume || "0");
              const price = BigInt(limit || "0");
              await call(a, token!, "approve", [ex!.address, vol * price]);
              const hash = await call(a, ex!, "placeBuy", [market.feedId, BigInt(effectiveEpoch), vol, price]);
              onDone();
              mine.reload();
              return `Bid for ${volume} Wh in epoch ${effectiveEpoch} placed (transaction ${hash.slice(0, 10)}…); it appears here once indexed.`;
            })
          }
        >
          Place bid
        </button>
      </form>
      )}
      {w.account && <Sell w={w} market={market} openEpoch={openEpoch} onDone={() => { onDone(); mine.reload(); }} />}
      {w.account && (
        <table data-testid="my-orders">
          <caption>Your open orders in this market</caption>
          <thead>
            <tr><th scope="col">Epoch</th><th scope="col">Order</th><th scope="col">Volume</th><th scope="col">Limit price</th><th scope="col">Escrow</th><th scope="col">Cancel</th></tr>
          </thead>
          <tbody>
            {(mine.data?.exchangeOrders ?? []).map((o) => (
              <tr key={o.id} data-order={o.id}>
                <td>{o.epoch}</td><td>#{o.index}</td><td>{wh(o.volumeWh)}</td><td>{units(o.limitPrice)}</td><td>{units(o.locked)}</td>
                <td>
                  <button
                    type="button"
                    disabled={!ready}
                    aria-label={`Cancel order ${o.index} of epoch ${o.epoch}`}
                    onClick={() =>
                      w.run("Cancelling", async () => {
                        const { call } = await walletModule();
                        const hash = await call(w.account!, ex!, "cancel", [market.id, BigInt(o.epoch), BigInt(o.index)]);
                        return `Order #${o.index} of epoch ${o.epoch} cancelled (transaction ${hash.slice(0, 10)}…).`;
                      })
                    }
                  >
                    Cancel
                  </button>
                </td>
              </tr>
            ))}
            {mine.data && mine.data.exchangeOrders.length === 0 && <tr><td colSpan={6}>No open order.</td></tr>}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Exchange() {
  const markets = useQuery<{ exchangeMarkets: Market[] }>(MARKETS);
  const [marketId, setMarketId] = useState<string | null>(null);
  const list = markets.data?.exchangeMarkets ?? [];
  const market = list.find((m) => m.id === marketId) ?? list[0];
  const pager = usePager();
  const q = useQuery<{ exchangeBooks: Book[]; exchangeTrades: Trade[]; exchangeImbalances: Imbalance[] }>(
    market ? BOOKS : null,
    { m: market?.id, after: pager.after },
  );
  const [open, setOpen] = useState<string | null>(null);
  const [live, setLive] = useState("");
  useSubscription(market && pager.page === 1 ? "subscription { newBlock { number } }" : null, () => q.reload());
  useSubscription<{ clearingPublished: { epoch: number; price: string } }>(
    market ? `subscription { clearingPublished(feedId: "${market.id}") { epoch price } }` : null,
    (d) => setLive(`Book for epoch ${d.clearingPublished.epoch} cleared at ${units(d.clearingPublished.price)}.`),
  );
  const books = q.data?.exchangeBooks ?? [];
  const chart = useMemo(() => {
    const cleared = books.filter((b) => b.price !== null).reverse();
    return {
      x: cleared.map((b) => Number(b.epoch)),
      lines: [
        { label: "equilibrium high", values: cleared.map((b) => (b.clearing ? Number(b.clearing.high) : null)), color: PALETTE.bandLine, width: 1 },
        { label: "equilibrium low", values: cleared.map((b) => (b.clearing ? Number(b.clearing.low) : null)), color: PALETTE.bandLine, width: 1 },
        { label: "clearing price", values: cleared.map((b) => Number(b.price)), color: PALETTE.consensus, width: 2, points: true },
      ],
    };
  }, [books]);
  if (markets.error) return <p role="alert">Could not load the exchange: {markets.error}</p>;
  if (!markets.data) return <p aria-busy="true">Loading…</p>;
  if (!market) return (<section aria-labelledby="ex-h"><h1 id="ex-h">Exchange</h1><p data-testid="no-market">No market is listed yet.</p></section>);
  return (
    <section aria-labelledby="ex-h">
      <h1 id="ex-h">Exchange</h1>
      <label className="inline">
        Market{" "}
        <select value={market.id} onChange={(e) => { setMarketId(e.target.value); pager.reset(); setOpen(null); }}>
          {list.map((m) => (
            <option key={m.id} value={m.id}>{marketName(m)}</option>
          ))}
        </select>
      </label>
      <p className="live" role="status" aria-live="polite" data-testid="exchange-live">{live}</p>
      {q.error && <p role="alert">Could not load the books: {q.error}</p>}
      {chart.x.length > 0 ? (
        <Chart title="Clearing price per delivery epoch (base units per Wh)" xLabel="epoch" yLabel="price" x={chart.x} lines={chart.lines} band={[0, 1]} bandFill={PALETTE.band} height={260} />
      ) : (
        q.data && <p>No book of this page has cleared yet.</p>
      )}
      <h2>Books</h2>
      <table data-testid="books">
        <caption className="sr-only">Books per delivery epoch, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Epoch</th><th scope="col">Status</th><th scope="col">Open bids / offers</th>
            <th scope="col">Bid volume</th><th scope="col">Offer volume</th><th scope="col">Price band</th>
            <th scope="col">Clearing price</th><th scope="col">Cleared volume</th><th scope="col">Depth</th>
          </tr>
        </thead>
        <tbody>
          {books.map((b) => (
            <Fragment key={b.id}>
              <tr data-epoch={b.epoch}>
                <th scope="row">{b.epoch}</th>
                <td><span className={`status status-${b.voided ? "cancelled" : b.status === "cleared" ? "settled" : b.status}`}>{b.voided ? "voided" : b.status}</span></td>
                <td>{b.openBuys} / {b.openSells}{b.cancelled ? ` (${b.cancelled} cancelled)` : ""}</td>
                <td>{wh(b.buyVolumeWh)}</td>
                <td>{wh(b.sellVolumeWh)}</td>
                <td>{units(b.bandLow)} – {units(b.bandHigh)}</td>
                <td data-testid="clearing-price">{units(b.price)}</td>
                <td>{wh(b.volumeWh)}</td>
                <td>
                  <button type="button" className="link" aria-expanded={open === b.id} aria-controls={`depth-${b.epoch}`}
                    onClick={() => setOpen(open === b.id ? null : b.id)}>
                    {open === b.id ? "Hide" : "Show"} depth<span className="sr-only"> of epoch {b.epoch}</span>
                  </button>
                </td>
              </tr>
              {open === b.id && (
                <tr id={`depth-${b.epoch}`}><td colSpan={9}><Depth id={b.id} /></td></tr>
              )}
            </Fragment>
          ))}
          {q.data && books.length === 0 && <tr><td colSpan={9}>No book yet.</td></tr>}
        </tbody>
      </table>
      <p className="muted">Prices and amounts in GRID base units (10⁻¹⁸ GRID) per Wh and in total.</p>
      <nav className="pager" aria-label="Book pages">
        <button type="button" onClick={pager.prev} disabled={pager.page === 1}>Newer</button>
        <span>page {pager.page}</span>
        <button type="button" onClick={() => pager.next(books[books.length - 1]?.cursor)} disabled={books.length < PAGE}>Older</button>
      </nav>
      <Bid key={market.id} market={market} openEpoch={books.find((b) => b.status === "open")?.epoch ?? null} onDone={q.reload} />
      <h2>Trades</h2>
      <table data-testid="trades">
        <caption className="sr-only">Settled orders, latest 20</caption>
        <thead>
          <tr>
            <th scope="col">Block</th><th scope="col">Epoch</th><th scope="col">Trader</th><th scope="col">Side</th>
            <th scope="col">Filled</th><th scope="col">Delivered</th><th scope="col">Price</th>
            <th scope="col">Paid / charged</th><th scope="col">Penalty / compensation</th>
          </tr>
        </thead>
        <tbody>
          {(q.data?.exchangeTrades ?? []).map((t) => (
            <tr key={t.id} data-trader={t.trader}>
              <td>{t.blockNumber}</td><td>{t.epoch}</td><td>{short(t.trader)}</td><td>{t.voided ? `${t.side} (void)` : t.side}</td>
              <td>{wh(t.filledWh)}</td><td>{t.side === "sell" ? wh(t.deliveredWh) : "–"}</td><td>{units(t.price)}</td>
              <td>{units(t.amount)}</td><td>{units(t.adjustment)}</td>
            </tr>
          ))}
          {q.data && q.data.exchangeTrades.length === 0 && <tr><td colSpan={9}>No trade settled yet.</td></tr>}
        </tbody>
      </table>
      <h2>Imbalances</h2>
      <table data-testid="imbalances">
        <caption className="sr-only">Sellers' delivery shortfalls and penalties, latest 20</caption>
        <thead>
          <tr><th scope="col">Epoch</th><th scope="col">Seller</th><th scope="col">Asset</th><th scope="col">Shortfall</th><th scope="col">Penalty</th></tr>
        </thead>
        <tbody>
          {(q.data?.exchangeImbalances ?? []).map((i) => (
            <tr key={i.id} data-seller={i.seller}>
              <td>{i.epoch}</td><td>{short(i.seller)}</td><td>#{i.assetId}</td><td>{wh(i.shortfallWh)}</td><td>{units(i.penalty)}</td>
            </tr>
          ))}
          {q.data && q.data.exchangeImbalances.length === 0 && <tr><td colSpan={5}>No imbalance.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
