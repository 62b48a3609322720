// Assets, certificates and carbon: the registered assets, the certificates minted from proven
// delivery, retirements, and the carbon leaderboard (avoided CO2e); every table paged.
import { useEffect, useState } from "react";
import { day, num, short, wh } from "../format";
import { useQuery, usePager, useSubscription } from "../gql";

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
