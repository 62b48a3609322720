// What pages need before the wallet code (viem) loads: the dashboard config and the connected
// account, shared by every page that uses the wallet (connect once).
import type { Abi, Address } from "viem";

export interface ContractInfo {
  address: Address;
  abi: Abi;
}

export interface DashboardConfig {
  chainId: number;
  contracts: {
    GridToken?: ContractInfo;
    OperatorStaking?: ContractInfo;
    GridGovernor?: ContractInfo;
    EnergyExchange?: ContractInfo;
    EnergyCertificates?: ContractInfo;
  };
  error?: string;
}

let configPromise: Promise<DashboardConfig> | null = null;
export function loadConfig(): Promise<DashboardConfig> {
  configPromise ??= fetch("/dashboard/config.json").then(async (r) => (await r.json()) as DashboardConfig);
  return configPromise;
}

// The connected account, shared by every page that uses the wallet (connect once).
let connected: Address | null = null;
const watchers = new Set<() => void>();
export const accountStore = {
  get: () => connected,
  set: (a: Address | null) => {
    connected = a;
    watchers.forEach((w) => w());
  },
  subscribe: (w: () => void) => {
    watchers.add(w);
    return () => {
      watchers.delete(w);
    };
  },
};

