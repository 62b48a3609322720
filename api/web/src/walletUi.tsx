// The wallet bar pages share (connect, the account, a status line), without loading viem until
// the wallet is used.
import { useEffect, useState, useSyncExternalStore } from "react";
import { accountStore, loadConfig, type DashboardConfig } from "./account";

export const walletModule = () => import("./wallet");

export interface WalletUi {
  account: `0x${string}` | null;
  config: DashboardConfig | null;
  busy: boolean;
  message: { kind: "ok" | "error"; text: string } | null;
  run: (label: string, fn: () => Promise<string>) => Promise<void>;
}

export function useWalletUi(): WalletUi {
  const account = useSyncExternalStore(accountStore.subscribe, accountStore.get);
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<WalletUi["message"]>(null);
  useEffect(() => {
    loadConfig().then(setConfig, (e: unknown) => setMessage({ kind: "error", text: String(e) }));
  }, []);
  const run = async (label: string, fn: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: "ok", text: await fn() });
    } catch (e) {
      setMessage({ kind: "error", text: `${label} failed: ${(await walletModule()).explain(e)}` });
    } finally {
      setBusy(false);
    }
  };
  return { account, config, busy, message, run };
}

export function WalletBar({ w, testId }: { w: WalletUi; testId: string }) {
  return (
    <>
      <div className="actions">
        <button
          type="button"
          disabled={w.busy}
          onClick={() =>
            w.run("Connecting", async () => {
              const a = await (await walletModule()).connect();
              accountStore.set(a);
              return `Connected ${a}`;
            })
          }
        >
          {w.account ? "Reconnect wallet" : "Connect wallet"}
        </button>
        <span className="muted" data-testid={`${testId}-account`}>{w.account ?? "not connected"}</span>
      </div>
      <p role="status" data-testid={`${testId}-message`} className={w.message?.kind === "error" ? "error" : "ok"}>
        {w.busy ? "Waiting for the wallet…" : (w.message?.text ?? "")}
      </p>
    </>
  );
}
