// Governance: GridGovernor proposals (state, tallies, decoded actions, execution) and their
// votes, paged; with a wallet, delegate voting power and vote (castVote through EIP-1193).
import { Fragment, useEffect, useState, useSyncExternalStore } from "react";
import type { Abi, Address } from "viem";
import { accountStore, loadConfig, type DashboardConfig } from "../account";
import { grid, short } from "../format";
import { useQuery, usePager, useSubscription } from "../gql";

// viem (most of the bundle) loads only when the wallet is used or a proposal's actions are shown:
// the list of proposals is interactive without it.
const wallet = () => import("../wallet");
type Decode = typeof import("../decode").decodeFunctionData;

const PAGE = 10;

interface Vote {
  id: string;
  voter: string;
  support: number;
  weight: string;
  reason: string;
  blockNumber: string;
}
interface ProposalRow {
  cursor: string;
  id: string;
  proposer: string;
  description: string;
  targets: string[];
  values: string[];
  calldatas: string[];
  voteStart: string;
  voteEnd: string;
  state: string;
  forVotes: string;
  againstVotes: string;
  abstainVotes: string;
  eta: string | null;
  createdBlock: string;
  executedBlock: string | null;
  executedTx: string | null;
  votes: Vote[];
}

const QUERY = `query Proposals($after: String) {
  proposals(first: ${PAGE}, orderBy: createdBlock, orderDirection: desc, after: $after) {
    cursor id proposer description targets values calldatas voteStart voteEnd state
    forVotes againstVotes abstainVotes eta createdBlock executedBlock executedTx
    votes(first: 20, orderBy: blockNumber, orderDirection: desc) { id voter support weight reason blockNumber }
  }
}`;

const SUPPORT = ["against", "for", "abstain"];

type Governed = Record<string, { name: string; abi: Abi }>;

/** The indexed state, refined by the chain head while a proposal is not queued or final. */
function stateLabel(p: ProposalRow, head: number | null): string {
  if (p.state !== "pending" || head === null) return p.state;
  if (head < Number(p.voteStart)) return "pending";
  if (head < Number(p.voteEnd)) return "voting";
  return "voting closed";
}

function describeCall(target: string, value: string, data: string, governed: Governed, decode: Decode | null): string {
  const known = governed[target.toLowerCase()];
  const eth = value !== "0" ? ` sending ${grid(value)} ETH` : "";
  if (!known || !decode) return `call ${known?.name ?? short(target)} with ${data.slice(0, 10)}…${eth}`;
  try {
    const d = decode({ abi: known.abi, data: data as `0x${string}` });
    const arg = (v: unknown): string =>
      Array.isArray(v)
        ? `(${v.map(arg).join(", ")})`
        : v !== null && typeof v === "object"
          ? `{${Object.entries(v).map(([k, x]) => `${k}: ${arg(x)}`).join(", ")}}`
          : typeof v === "string" && v.length > 20
            ? short(v)
            : String(v);
    return `${known.name}.${d.functionName}(${(d.args ?? []).map(arg).join(", ")})${eth}`;
  } catch {
    return `${known.name}: call ${data.slice(0, 10)}…${eth}`;
  }
}

export function Governance() {
  const pager = usePager();
  const q = useQuery<{ proposals: ProposalRow[] }>(QUERY, { after: pager.after });
  const [head, setHead] = useState<number | null>(null);
  const [governed, setGoverned] = useState<Governed>({});
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const account = useSyncExternalStore(accountStore.subscribe, accountStore.get);
  const [power, setPower] = useState<bigint | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [decode, setDecode] = useState<Decode | null>(null);
  useEffect(() => {
    if (open && !decode) import("../decode").then((v) => setDecode(() => v.decodeFunctionData), () => undefined);
  }, [open, decode]);
  const refreshHead = () =>
    fetch("/dashboard/head.json")
      .then((r) => r.json())
      .then((b: { head: number | null }) => setHead(b.head))
      .catch(() => setHead(null));
  useEffect(() => {
    void refreshHead();
    fetch("/dashboard/governed.json")
      .then((r) => r.json())
      .then((b: { contracts: Governed }) => setGoverned(b.contracts))
      .catch(() => undefined);
    loadConfig().then(setConfig, (e: unknown) => setMessage({ kind: "error", text: String(e) }));
  }, []);
  const token = config?.contracts.GridToken;
  const governor = config?.contracts.GridGovernor;
  const refreshPower = async (who: Address) => {
    if (token) setPower((await (await wallet()).read(token, "getVotes", [who])) as bigint);
  };
  useEffect(() => {
    if (account && token) void refreshPower(account).catch(() => undefined);
  }, [account, token]);
  useSubscription("subscription { newBlock { number } }", () => {
    q.reload();
    void refreshHead();
    if (account) void refreshPower(account).catch(() => undefined);
  });

  const run = async (label: string, fn: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: "ok", text: await fn() });
    } catch (e) {
      setMessage({ kind: "error", text: `${label} failed: ${(await wallet()).explain(e)}` });
    } finally {
      setBusy(false);
    }
  };
  const vote = (p: ProposalRow, support: number) =>
    run("Voting", async () => {
      const { call } = await wallet();
      const hash = await call(account as Address, governor!, "castVote", [BigInt(p.id), support]);
      return `Voted ${SUPPORT[support]} on proposal ${short(p.id)} (transaction ${hash.slice(0, 10)}…); it appears here once indexed.`;
    });

  if (q.error) return <p role="alert">Could not load proposals: {q.error}</p>;
  const rows = q.data?.proposals ?? [];
  const canVote = Boolean(account && governor) && !busy;
  return (
    <section aria-labelledby="gov-h">
      <h1 id="gov-h">Governance</h1>
      {config && !governor && <p role="alert">This deployment has no governor: voting is unavailable.</p>}
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run("Connecting", async () => {
              const a = await (await wallet()).connect();
              accountStore.set(a);
              await refreshPower(a);
              return `Connected ${a}`;
            })
          }
        >
          {account ? "Reconnect wallet" : "Connect wallet"}
        </button>
        <button
          type="button"
          disabled={busy || !account || !token}
          aria-describedby="delegate-help"
          onClick={() =>
            run("Delegating", async () => {
              const hash = await (await wallet()).call(account as Address, token!, "delegate", [account]);
              await refreshPower(account as Address);
              return `Your GRID now votes for you (transaction ${hash.slice(0, 10)}…).`;
            })
          }
        >
          Delegate my votes to me
        </button>
        <span id="delegate-help" className="muted">
          GRID votes once delegated, with the weight held when a proposal's voting starts.
        </span>
      </div>
      <dl className="stats">
        <div><dt>Account</dt><dd data-testid="gov-account">{account ?? "not connected"}</dd></div>
        <div><dt>Voting power</dt><dd data-testid="voting-power">{power === null ? "–" : grid(power.toString())}</dd></div>
        <div><dt>Chain head</dt><dd>{head ?? "–"}</dd></div>
      </dl>
      <p role="status" data-testid="gov-message" className={message?.kind === "error" ? "error" : "ok"}>
        {busy ? "Waiting for the wallet…" : (message?.text ?? "")}
      </p>
      <table data-testid="proposals">
        <caption className="sr-only">Governance proposals, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Proposal</th>
            <th scope="col">State</th>
            <th scope="col">For</th>
            <th scope="col">Against</th>
            <th scope="col">Abstain</th>
            <th scope="col">Voting blocks</th>
            <th scope="col">Vote</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => {
            const label = stateLabel(p, head);
            const expanded = open === p.id;
            return (
              <Fragment key={p.id}>
                <tr data-proposal={p.id}>
                  <th scope="row">
                    <button
                      type="button"
                      className="link"
                      aria-expanded={expanded}
                      aria-controls={`prop-${p.id}`}
                      onClick={() => setOpen(expanded ? null : p.id)}
                    >
                      {p.description.split("\n")[0] || short(p.id)}
                    </button>
                    <div className="muted">#{short(p.id)} by {short(p.proposer)}</div>
                  </th>
                  <td><span className={`status status-${label.replace(" ", "-")}`} data-testid="proposal-state">{label}</span></td>
                  <td data-testid="for-votes">{grid(p.forVotes)}</td>
                  <td>{grid(p.againstVotes)}</td>
                  <td>{grid(p.abstainVotes)}</td>
                  <td>{p.voteStart} – {p.voteEnd}</td>
                  <td>
                    {label === "voting" ? (
                      <div role="group" aria-label={`Vote on ${p.description.split("\n")[0] || p.id}`} className="votes">
                        {[1, 0, 2].map((s) => (
                          <button key={s} type="button" disabled={!canVote} onClick={() => void vote(p, s)}>
                            {s === 1 ? "For" : s === 0 ? "Against" : "Abstain"}
                          </button>
                        ))}
                      </div>
                    ) : (
                      "–"
                    )}
                  </td>
                </tr>
                {expanded && (
                  <tr id={`prop-${p.id}`}>
                    <td colSpan={7}>
                      <h2 className="sub">{p.executedBlock ? `Executed at block ${p.executedBlock}` : "Proposed actions"}</h2>
                      <ol data-testid="proposal-actions">
                        {p.targets.map((t, i) => (
                          <li key={i}><code>{describeCall(t, p.values[i] ?? "0", p.calldatas[i] ?? "0x", governed, decode)}</code></li>
                        ))}
                      </ol>
                      <p className="muted">
                        Created at block {p.createdBlock}
                        {p.eta ? `; queued, executable from ${new Date(Number(p.eta) * 1000).toLocaleString()}` : ""}
                        {p.executedTx ? `; executed in ${short(p.executedTx)}` : ""}.
                      </p>
                      <table data-testid="votes">
                        <caption>Votes (latest 20)</caption>
                        <thead>
                          <tr><th scope="col">Block</th><th scope="col">Voter</th><th scope="col">Vote</th><th scope="col">Weight</th><th scope="col">Reason</th></tr>
                        </thead>
                        <tbody>
                          {p.votes.map((v) => (
                            <tr key={v.id} data-voter={v.voter}>
                              <td>{v.blockNumber}</td><td>{short(v.voter)}</td><td>{SUPPORT[v.support] ?? v.support}</td>
                              <td>{grid(v.weight)}</td><td>{v.reason || "–"}</td>
                            </tr>
                          ))}
                          {p.votes.length === 0 && <tr><td colSpan={5}>No vote yet.</td></tr>}
                        </tbody>
                      </table>
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
          {q.data && rows.length === 0 && (
            <tr><td colSpan={7}>No proposal yet.</td></tr>
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label="Proposal pages">
        <button type="button" onClick={pager.prev} disabled={pager.page === 1}>Newer</button>
        <span>page {pager.page}</span>
        <button type="button" onClick={() => pager.next(rows[rows.length - 1]?.cursor)} disabled={rows.length < PAGE}>Older</button>
      </nav>
    </section>
  );
}
