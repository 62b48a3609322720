import { useEffect, useState, useSyncExternalStore } from "react";
import { formatUnits, parseUnits, type Address } from "viem";
import { grid } from "../format";
import { useQuery, useSubscription } from "../gql";
import { accountStore, call, connect, explain, loadConfig, read, signIn, type DashboardConfig, type Session } from "../wallet";

interface StakeData {
  stake: { active: string; unbonding: string; releaseAt: string | null } | null;
}

export function Wallet() {
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const account = useSyncExternalStore(accountStore.subscribe, accountStore.get);
  const setAccount = accountStore.set;
  const [session, setSession] = useState<Session | null>(null);
  const [balance, setBalance] = useState<bigint | null>(null);
  const [amount, setAmount] = useState("10");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  useEffect(() => {
    loadConfig()
      .then(setConfig)
      .catch((e: unknown) => setMessage({ kind: "error", text: explain(e) }));
  }, []);
  const indexed = useQuery<StakeData>(
    account ? `query S($id: ID!) { stake(id: $id) { active unbonding releaseAt } }` : null,
    { id: account?.toLowerCase() },
  );
  useSubscription(account ? "subscription { newBlock { number } }" : null, () => indexed.reload());
  const token = config?.contracts.GridToken;
  const staking = config?.contracts.OperatorStaking;
  const refreshBalance = async (who: Address) => {
    if (token) setBalance((await read(token, "balanceOf", [who])) as bigint);
  };
  useEffect(() => {
    // connected on another page: show the balance without a second connect
    if (account && token) read(token, "balanceOf", [account]).then((b) => setBalance(b as bigint), () => undefined);
  }, [account, token]);

  const run = async (label: string, fn: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: "ok", text: await fn() });
    } catch (e) {
      setMessage({ kind: "error", text: `${label} failed: ${explain(e)}` });
    } finally {
      setBusy(false);
    }
  };
  const ready = Boolean(account && token && staking);
  const wei = () => parseUnits(amount || "0", 18);

  return (
    <section aria-labelledby="wallet-h">
      <h1 id="wallet-h">Wallet</h1>
      {config?.error && <p role="alert">The wallet is unavailable: {config.error}</p>}
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run("Connecting", async () => {
              const a = await connect();
              setAccount(a);
              await refreshBalance(a);
              return `Connected ${a}`;
            })
          }
        >
          {account ? "Reconnect wallet" : "Connect wallet"}
        </button>
        <button
          type="button"
          disabled={busy || !account || !config}
          onClick={() =>
            run("Sign-in", async () => {
              const s = await signIn(account as Address, config!.chainId);
              setSession(s);
              return `Signed in as ${s.address}`;
            })
          }
        >
          Sign in with Ethereum
        </button>
      </div>
      <dl className="stats">
        <div><dt>Account</dt><dd data-testid="account">{account ?? "not connected"}</dd></div>
        <div><dt>Session</dt><dd data-testid="session">{session ? `signed in until ${new Date(session.expiresAt).toLocaleTimeString()}` : "signed out"}</dd></div>
        <div><dt>GRID balance</dt><dd>{balance === null ? "–" : formatUnits(balance, 18)}</dd></div>
        <div><dt>Indexed stake</dt><dd data-testid="indexed-stake">{indexed.data?.stake ? grid(indexed.data.stake.active) : "0"}</dd></div>
        <div><dt>Unbonding</dt><dd>{indexed.data?.stake ? grid(indexed.data.stake.unbonding) : "0"}</dd></div>
      </dl>
      <form
        className="stake"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label>
          Amount (GRID){" "}
          <input
            name="amount"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-describedby="amount-help"
          />
        </label>
        <span id="amount-help" className="muted">Staking approves the staking contract, then stakes.</span>
        <button
          type="button"
          disabled={busy || !ready}
          onClick={() =>
            run("Staking", async () => {
              const a = account as Address;
              await call(a, token!, "approve", [staking!.address, wei()]);
              const hash = await call(a, staking!, "stake", [wei()]);
              await refreshBalance(a);
              return `Staked ${amount} GRID (transaction ${hash.slice(0, 10)}…); it appears here once indexed.`;
            })
          }
        >
          Stake
        </button>
        <button
          type="button"
          disabled={busy || !ready}
          onClick={() =>
            run("Unstaking", async () => {
              const hash = await call(account as Address, staking!, "requestUnstake", [wei()]);
              return `Unstake of ${amount} GRID requested (transaction ${hash.slice(0, 10)}…).`;
            })
          }
        >
          Request unstake
        </button>
        <button
          type="button"
          disabled={busy || !ready}
          onClick={() =>
            run("Withdrawing", async () => {
              const hash = await call(account as Address, staking!, "withdraw", []);
              await refreshBalance(account as Address);
              return `Withdrawn (transaction ${hash.slice(0, 10)}…).`;
            })
          }
        >
          Withdraw
        </button>
      </form>
      <p role="status" data-testid="wallet-message" className={message?.kind === "error" ? "error" : "ok"}>
        {busy ? "Waiting for the wallet…" : (message?.text ?? "")}
      </p>
    </section>
  );
}
