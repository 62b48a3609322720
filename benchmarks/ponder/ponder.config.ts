// Gridcast contracts for the Ponder peer; addresses, ABIs and start block come from the file the
// benchmark writes (GRIDCAST_PONDER_INPUT), so both indexers read exactly the same chain.
import { readFileSync } from "node:fs";
import { createConfig } from "ponder";
import { http } from "viem";

const input = JSON.parse(readFileSync(process.env.GRIDCAST_PONDER_INPUT!, "utf8"));

const contract = (name: string) => ({
  network: "anvil" as const,
  abi: input.abis[name],
  address: input.addresses[name],
  startBlock: input.startBlock,
});

export default createConfig({
  networks: {
    anvil: {
      chainId: 31337,
      transport: http(input.rpcUrl, { maxResponseBodySize: 256 * 1024 * 1024 } as any),
      disableCache: true,
    },
  },
  contracts: {
    OperatorStaking: contract("OperatorStaking"),
    ForecastRegistry: contract("ForecastRegistry"),
    Settlement: contract("Settlement"),
  },
  database: { kind: "postgres", connectionString: process.env.DATABASE_URL },
});
