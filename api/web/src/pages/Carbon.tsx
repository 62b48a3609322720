// Assets, certificates and carbon: the registered assets, the certificates minted from proven
// delivery, retirements, and the carbon leaderboard (avoided CO2e); every table paged.
import { useEffect, useState } from "react";
import { day, num, short, wh } from "../format";
import { gql, useQuery, usePager, useSubscription } from "../gql";
import { useWalletUi, WalletBar, walletModule, type WalletUi } from "../walletUi";

const PAGE = 20;

interface Wallet {
  id: string;
  retiredWh: string;
  co2eGrams: string;
  co2eTonnes: number;
  retirementCount: number;
}
interface Asset {
  cursor: string;
  id: string;
  owner: string;
  kind: string;
  renewable: boolean;
  capacityW: string;
  location: string;
  feed: { region: string; metric: string } | null;
}
interface Certificate {
  cursor: string;
  id: string;
  assetId: string;
  day: string;
  minted: string;
  retired: string;
  supply: string;
}
interface Retirement {
  id: string;
  account: string;
  assetId: string;
  day: string;
  energyWh: string;
  co2eGrams: string;
  beneficiary: string;
  purpose: string;
  blockNumber: string;
}

function Leaderboard({ tick }: { tick: number }) {
  const [skip, setSkip] = useState(0);
  const q = useQuery<{ carbonLeaderboard: Wallet[] }>(
    `query Board($skip: Int!) { carbonLeaderboard(first: ${PAGE}, skip: $skip) { id retiredWh co2eGrams co2eTonnes retirementCount } }`,
    { skip },
  );
  useEffect(() => {
    if (tick) q.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- refetch on a new retirement only
  }, [tick]);
  const rows = q.data?.carbonLeaderboard ?? [];
  return (
    <>
      <h2 id="board-h">Carbon leaderboard</h2>
      {q.error && <p role="alert">Could not load the leaderboard: {q.error}</p>}
      <table data-testid="carbon-leaderboard" aria-labelledby="board-h">
        <thead>
          <tr><th scope="col">#</th><th scope="col">Account</th><th scope="col">Avoided CO₂e</th><th scope="col">Energy retired</th><th scope="col">Retirements</th></tr>
        </thead>
        <tbody>
          {rows.map((w, i) => (
            <tr key={w.id} data-account={w.id}>
              <td>{skip + i + 1}</td><th scope="row">{short(w.id)}</th>
              <td data-testid="co2e">{Number(w.co2eGrams) >= 1e6 ? `${num(w.co2eTonnes, 3)} t` : `${Number(w.co2eGrams).toLocaleString("en-US")} g`}</td>
              <td>{wh(w.retiredWh)}</td><td>{w.retirementCount}</td>
            </tr>
          ))}
          {q.data && rows.length === 0 && <tr><td colSpan={5}>No certificate retired yet.</td></tr>}
        </tbody>
      </table>
      <nav className="pager" aria-label="Leaderboard pages">
        <button type="button" onClick={() => setSkip(Math.max(0, skip - PAGE))} disabled={skip === 0}>Previous</button>
        <span>page {skip / PAGE + 1}</span>
        <button type="button" onClick={() => setSkip(skip + PAGE)} disabled={rows.length < PAGE}>Next</button>
      </nav>
    </>
  );
}

interface Balance {
  id: string;
  certificateId: string;
  assetId: string;
  day: string;
  balance: string;
}

/** Retire certificates the connected wallet holds (EnergyCertificates.retire). */
function Retire() {
  const w = useWalletUi();
  const mine = useQuery<{ certificateBalances: Balance[] }>(
    w.account
      ? `query Mine($o: String!) { certificateBalances(first: 20, orderBy: day, orderDirection: desc,
          where: {owner: $o, balance_gt: "0"}) { id certificateId assetId day balance } }`
      : null,
    { o: w.account?.toLowerCase() },
  );
  useSubscription(w.account ? "subscription { newBlock { number } }" : null, () => mine.reload());
  const rows = mine.data?.certificateBalances ?? [];
  const [pick, setPick] = useState("");
  const [amount, setAmount] = useState("");
  const [beneficiary, setBeneficiary] = useState("");
  const [purpose, setPurpose] = useState("scope 2");
  const certs = w.config?.contracts.EnergyCertificates;
  const chosen = pick || rows[0]?.certificateId || "";
  return (
    <section aria-labelledby="retire-h" className="wallet-box">
      <h2 id="retire-h">Claim and retire from your wallet</h2>
      {w.config && !certs && <p role="alert">This deployment has no certificates: claiming and retiring are unavailable.</p>}
      <WalletBar w={w} testId="carbon" />
      {w.account && (
        <table data-testid="my-certificates">
          <caption>Certificates you hold</caption>
          <thead><tr><th scope="col">Certificate</th><th scope="col">Asset</th><th scope="col">Day (UTC)</th><th scope="col">Balance</th></tr></thead>
          <tbody>
            {rows.map((b) => (
              <tr key={b.id} data-certificate={b.certificateId}>
                <th scope="row">{short(b.certificateId)}</th><td>#{b.assetId}</td><td>{day(b.day)}</td><td data-testid="balance">{wh(b.balance)}</td>
              </tr>
            ))}
            {mine.data && rows.length === 0 && <tr><td colSpan={4}>You hold no certificate.</td></tr>}
          </tbody>
        </table>
      )}
      {w.account && <Claim w={w} />}
      <h3>Retire</h3>
      <form className="stake" onSubmit={(e) => e.preventDefault()}>
        <label>
          Certificate{" "}
          <select value={chosen} onChange={(e) => setPick(e.target.value)}>
            {rows.map((b) => (
              <option key={b.id} value={b.certificateId}>asset #{b.assetId}, {day(b.day)} ({wh(b.balance)})</option>
            ))}
          </select>
        </label>
        <label>Energy (Wh) <input name="retire-amount" inputMode="numeric" value={amount} onChange={(e) => setAmount(e.target.value)} /></label>
        <label>Beneficiary <input name="beneficiary" value={beneficiary} onChange={(e) => setBeneficiary(e.target.value)} /></label>
        <label>Purpose <input name="purpose" value={purpose} onChange={(e) => setPurpose(e.target.value)} /></label>
        <button
          type="button"
          disabled={w.busy || !w.account || !certs || !chosen || !amount}
          onClick={() =>
            w.run("Retiring", async () => {
              const { call } = await walletModule();
              const hash = await call(w.account!, certs!, "retire", [BigInt(chosen), BigInt(amount), beneficiary, purpose]);
              return `Retired ${amount} Wh for ${beneficiary || "yourself"} (transaction ${hash.slice(0, 10)}…); it counts once indexed.`;
            })
          }
        >
          Retire
        </button>
      </form>
    </section>
  );
}

interface MyAsset {
  id: string;
  kind: string;
  feedId: string;
  meterIds: string[];
  certifiedEpochs: { epoch: string }[];
}
interface Root {
  id: string;
  epoch: string;
  status: string;
}
interface Reading {
  meterId: string;
  energyWh: string;
  proof: string[];
}
const ROOTS = 50; // the newest delivery roots of the asset's feed looked at

/** Claim the certificates of an owned renewable asset's proven delivery (EnergyCertificates.claim):
 * every epoch whose delivery root is final and that is not certified yet, in one transaction
 * per meter set (one when every meter reported in every epoch), proofs from GraphQL. */
function Claim({ w }: { w: WalletUi }) {
  const mine = useQuery<{ assets: MyAsset[] }>(
    w.account
      ? `query MyAssets($o: String!) { assets(first: 20, orderBy: registeredBlock, where: {owner: $o, renewable: true}) {
          id kind feedId meterIds certifiedEpochs(first: 1000) { epoch } } }`
      : null,
    { o: w.account?.toLowerCase() },
  );
  const assets = mine.data?.assets ?? [];
  const [pick, setPick] = useState("");
  const asset = assets.find((a) => a.id === pick) ?? assets[0];
  const roots = useQuery<{ deliveryRoots: Root[] }>(
    asset
      ? `query Roots($f: String!) { deliveryRoots(first: ${ROOTS}, orderBy: epoch, orderDirection: desc, where: {feedId: $f}) { id epoch status } }`
      : null,
    { f: asset?.feedId },
  );
  useSubscription(w.account ? "subscription { newBlock { number } }" : null, () => {
    mine.reload();
    roots.reload();
  });
  const certs = w.config?.contracts.EnergyCertificates;
  const done = new Set((asset?.certifiedEpochs ?? []).map((e) => e.epoch));
  const claimable = (roots.data?.deliveryRoots ?? []).filter((r) => r.status === "final" && !done.has(r.epoch));
  const claim = async (): Promise<string> => {
    const a = asset!;
    const { call } = await walletModule();
    const meters = new Set(a.meterIds.map((m) => m.toLowerCase()));
    const groups = new Map<string, { ids: string[]; claims: { epoch: bigint; energyWh: bigint[]; proofs: string[][] }[] }>();
    const epochs = [...claimable].sort((x, y) => Number(x.epoch) - Number(y.epoch));
    let total = 0n;
    for (const r of epochs) {
      const d = await gql<{ deliveryRoot: { readings: Reading[] } | null }>(
        `query Leaves($id: ID!) { deliveryRoot(id: $id) { readings(first: 1000) { meterId energyWh proof } } }`,
        { id: r.id },
      );
      const own = (d.deliveryRoot?.readings ?? [])
        .filter((x) => meters.has(x.meterId.toLowerCase()))
        .sort((x, y) => (x.meterId.toLowerCase() < y.meterId.toLowerCase() ? -1 : 1));
      const energy = own.map((x) => BigInt(x.energyWh));
      const sum = energy.reduce((s, e) => s + e, 0n);
      if (sum === 0n) continue; // no proven leaf of this asset's meters: nothing to certify
      const ids = own.map((x) => x.meterId);
      const g = groups.get(ids.join()) ?? { ids, claims: [] };
      g.claims.push({ epoch: BigInt(r.epoch), energyWh: energy, proofs: own.map((x) => x.proof) });
      groups.set(ids.join(), g);
      total += sum;
    }
    if (!groups.size) return `No delivery of asset #${a.id}'s meters is proven in those epochs: nothing to claim.`;
    const hashes: string[] = [];
    const claimed: string[] = [];
    for (const g of groups.values()) {
      hashes.push(await call(w.account!, certs!, "claim", [BigInt(a.id), g.ids, g.claims]));
      claimed.push(...g.claims.map((c) => String(c.epoch)));
    }
    return `Claimed ${total.toLocaleString("en-US")} Wh of asset #${a.id} in epoch${claimed.length > 1 ? "s" : ""} ${claimed.join(", ")} (transaction${hashes.length > 1 ? "s" : ""} ${hashes.map((h) => `${h.slice(0, 10)}…`).join(", ")}); the certificates appear once indexed.`;
  };
  return (
    <>
      <h3 id="claim-h">Claim certificates</h3>
      {w.account && mine.data && assets.length === 0 && <p data-testid="no-asset">You own no solar or wind asset.</p>}
      {asset && (
        <form className="stake" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor="claim-asset">Your asset</label>
          <select id="claim-asset" value={asset.id} onChange={(e) => setPick(e.target.value)}>
            {assets.map((a) => (
              <option key={a.id} value={a.id}>#{a.id} ({a.kind})</option>
            ))}
          </select>
          <p data-testid="claimable">
            {roots.data
              ? claimable.length
                ? `Certifiable epochs (delivery root final, not yet claimed): ${[...claimable].map((r) => r.epoch).sort((x, y) => Number(x) - Number(y)).join(", ")}.`
                : `No certifiable epoch among the feed's latest ${ROOTS} delivery roots.`
              : "Loading…"}
          </p>
          <button type="button" disabled={w.busy || !certs || claimable.length === 0} onClick={() => w.run("Claiming", claim)}>
            Claim certificates
          </button>
        </form>
      )}
    </>
  );
}

export function Carbon() {
  const [tick, setTick] = useState(0);
  const assetsPager = usePager();
  const certsPager = usePager();
  const assets = useQuery<{ assets: Asset[] }>(
    `query A($after: String) { assets(first: ${PAGE}, orderBy: registeredBlock, after: $after) {
      cursor id owner kind renewable capacityW location feed { region metric } } }`,
    { after: assetsPager.after },
  );
  const certs = useQuery<{ certificates: Certificate[]; retirements: Retirement[] }>(
    `query C($after: String) {
      certificates(first: ${PAGE}, orderBy: firstBlock, orderDirection: desc, after: $after) {
        cursor id assetId day minted retired supply }
      retirements(first: ${PAGE}, orderBy: blockNumber, orderDirection: desc) {
        id account assetId day energyWh co2eGrams beneficiary purpose blockNumber }
    }`,
    { after: certsPager.after },
  );
  const [live, setLive] = useState("");
  useSubscription<{ certificateRetired: { account: string; energyWh: string } }>(
    "subscription { certificateRetired { account energyWh } }",
    (d) => {
      setLive(`${short(d.certificateRetired.account)} retired ${wh(d.certificateRetired.energyWh)}.`);
      setTick((t) => t + 1);
      assets.reload();
      certs.reload();
    },
  );
  const aRows = assets.data?.assets ?? [];
  const cRows = certs.data?.certificates ?? [];
  return (
    <section aria-labelledby="carbon-h">
      <h1 id="carbon-h">Assets, certificates and carbon</h1>
      <p className="live" role="status" aria-live="polite" data-testid="carbon-live">{live}</p>
      <Leaderboard tick={tick} />
      <Retire />
      <h2 id="assets-h">Assets</h2>
      {assets.error && <p role="alert">Could not load assets: {assets.error}</p>}
      <table data-testid="assets" aria-labelledby="assets-h">
        <thead>
          <tr><th scope="col">Asset</th><th scope="col">Kind</th><th scope="col">Capacity</th><th scope="col">Feed</th><th scope="col">Location</th><th scope="col">Owner</th></tr>
        </thead>
        <tbody>
          {aRows.map((a) => (
            <tr key={a.id} data-asset={a.id}>
              <th scope="row">#{a.id}</th><td>{a.kind}{a.renewable ? " (renewable)" : ""}</td>
              <td>{(Number(a.capacityW) / 1000).toLocaleString("en-US")} kW</td>
              <td>{a.feed ? `${a.feed.region} · ${a.feed.metric}` : "–"}</td><td>{a.location}</td><td>{short(a.owner)}</td>
            </tr>
          ))}
          {assets.data && aRows.length === 0 && <tr><td colSpan={6}>No asset registered yet.</td></tr>}
        </tbody>
      </table>
      <nav className="pager" aria-label="Asset pages">
        <button type="button" onClick={assetsPager.prev} disabled={assetsPager.page === 1}>Previous</button>
        <span>page {assetsPager.page}</span>
        <button type="button" onClick={() => assetsPager.next(aRows[aRows.length - 1]?.cursor)} disabled={aRows.length < PAGE}>Next</button>
      </nav>
      <h2 id="certs-h">Certificates</h2>
      {certs.error && <p role="alert">Could not load certificates: {certs.error}</p>}
      <table data-testid="certificates" aria-labelledby="certs-h">
        <thead>
          <tr><th scope="col">Certificate</th><th scope="col">Asset</th><th scope="col">Day (UTC)</th><th scope="col">Minted</th><th scope="col">Retired</th><th scope="col">Supply</th></tr>
        </thead>
        <tbody>
          {cRows.map((c) => (
            <tr key={c.id} data-certificate={c.id}>
              <th scope="row">{short(c.id)}</th><td>#{c.assetId}</td><td>{day(c.day)}</td>
              <td>{wh(c.minted)}</td><td>{wh(c.retired)}</td><td>{wh(c.supply)}</td>
            </tr>
          ))}
          {certs.data && cRows.length === 0 && <tr><td colSpan={6}>No certificate minted yet.</td></tr>}
        </tbody>
      </table>
      <nav className="pager" aria-label="Certificate pages">
        <button type="button" onClick={certsPager.prev} disabled={certsPager.page === 1}>Newer</button>
        <span>page {certsPager.page}</span>
        <button type="button" onClick={() => certsPager.next(cRows[cRows.length - 1]?.cursor)} disabled={cRows.length < PAGE}>Older</button>
      </nav>
      <h2 id="ret-h">Retirements</h2>
      <table data-testid="retirements" aria-labelledby="ret-h">
        <thead>
          <tr><th scope="col">Block</th><th scope="col">Account</th><th scope="col">Beneficiary</th><th scope="col">Purpose</th><th scope="col">Asset</th><th scope="col">Day</th><th scope="col">Energy</th><th scope="col">CO₂e</th></tr>
        </thead>
        <tbody>
          {(certs.data?.retirements ?? []).map((r) => (
            <tr key={r.id}>
              <td>{r.blockNumber}</td><td>{short(r.account)}</td><td>{r.beneficiary}</td><td>{r.purpose}</td>
              <td>#{r.assetId}</td><td>{day(r.day)}</td><td>{wh(r.energyWh)}</td><td>{Number(r.co2eGrams).toLocaleString("en-US")} g</td>
            </tr>
          ))}
          {certs.data && certs.data.retirements.length === 0 && <tr><td colSpan={8}>No retirement yet.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
