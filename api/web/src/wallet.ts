// The wallet: EIP-1193 (window.ethereum) through viem, SIWE sign-in, stake/unstake with reverts
// decoded from the contracts' custom errors into sentences.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  formatUnits,
  getAddress,
  type Address,
  type EIP1193Provider,
} from "viem";
import { createSiweMessage } from "viem/siwe";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export { accountStore, loadConfig, type ContractInfo, type DashboardConfig } from "./account";
import type { ContractInfo } from "./account";

export function provider(): EIP1193Provider {
  if (!window.ethereum) throw new Error("No wallet found: install a browser wallet (EIP-1193) and reload.");
  return window.ethereum;
}

export async function connect(): Promise<Address> {
  const accounts = (await provider().request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts.length) throw new Error("The wallet shared no account.");
  return getAddress(accounts[0]);
}

export interface Session {
  token: string;
  address: string;
  expiresAt: string;
}

export async function signIn(address: Address, chainId: number): Promise<Session> {
  const nonce = ((await (await fetch("/auth/nonce")).json()) as { nonce: string }).nonce;
  const message = createSiweMessage({
    address,
    chainId,
    domain: location.host,
    nonce,
    uri: location.origin,
    version: "1",
    statement: "Sign in to the Gridcast dashboard.",
    issuedAt: new Date(),
  });
  const wallet = createWalletClient({ transport: custom(provider()) });
  const signature = await wallet.signMessage({ account: address, message });
  const r = await fetch("/auth/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  const body = (await r.json()) as Session & { errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`Sign-in refused: ${body.errors[0].message}`);
  return body;
}

const GRID = 18;

/** OpenZeppelin Governor's ProposalState, by number. */
export const PROPOSAL_STATES = ["pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed"];

function sentence(name: string, args: readonly unknown[]): string {
  const g = (v: unknown) => `${formatUnits(BigInt(String(v)), GRID)} GRID`;
  switch (name) {
    case "OperatorStakingZeroAmount":
      return "The amount must be more than zero.";
    case "OperatorStakingInsufficientStake":
      return `You asked to unstake ${g(args[1])} but only ${g(args[2])} is staked.`;
    case "OperatorStakingNothingUnbonding":
      return "Nothing is unbonding, so there is nothing to withdraw.";
    case "OperatorStakingStillUnbonding":
      return `Your stake is still unbonding until ${new Date(Number(args[1]) * 1000).toLocaleString()}.`;
    case "ERC20InsufficientBalance":
      return `Your GRID balance (${g(args[1])}) is less than the ${g(args[2])} needed.`;
    case "ERC20InsufficientAllowance":
      return `The staking contract may spend only ${g(args[1])} of your GRID, ${g(args[2])} needed.`;
    case "EnforcedPause":
      return "Staking is paused by the administrators.";
    case "ExchangePriceOutOfBand":
      return `The limit price ${String(args[0])} is outside the book's band, ${String(args[1])} to ${String(args[2])} base units per Wh.`;
    case "ExchangeGateClosed":
      return `The book of epoch ${String(args[1])} is closed: its gate passed at ${new Date(Number(args[2]) * 1000).toLocaleString()}.`;
    case "ExchangeNoConsensus":
      return `Epoch ${String(args[1])} has no consensus yet, so its book cannot open.`;
    case "ExchangeZeroVolume":
      return "The volume must be more than zero.";
    case "ExchangeNotTrader":
      return "Only the trader who placed this order may cancel it.";
    case "ExchangeOrderClosed":
      return "This order is already cancelled or settled.";
    case "ExchangeBookFull":
      return `The book of epoch ${String(args[1])} is full (${String(args[2])} orders).`;
    case "ExchangeNothingToWithdraw":
      return "You have nothing to withdraw from the exchange.";
    case "CertificatesRetireExceedsBalance":
      return `You hold only ${String(args[2])} Wh of this certificate; ${String(args[3])} Wh asked.`;
    case "CertificatesAlreadyClaimed":
      return `Epoch ${String(args[1])} of asset #${String(args[0])} is already certified.`;
    case "CertificatesPendingOnExchange":
      return `Asset #${String(args[0])} has a renewable sell of epoch ${String(args[1])} not yet settled: its certificates come with the settlement.`;
    case "CertificatesNotRenewable":
      return `Asset #${String(args[0])} is not solar or wind: only renewable delivery is certified.`;
    case "CertificatesEmptyClaim":
      return "There is nothing to claim.";
    case "CertificatesOverCapacity":
      return `Epoch ${String(args[1])} of asset #${String(args[0])}: ${String(args[2])} Wh is more than its capacity allows (${String(args[3])} Wh).`;
    case "CertificatesMeterNotOfAsset":
      return `Meter ${String(args[0]).slice(0, 10)}… is not a meter of asset #${String(args[1])}.`;
    case "CertificatesInvalidProof":
      return `The delivery proof of meter ${String(args[1]).slice(0, 10)}… in epoch ${String(args[0])} does not match the posted root.`;
    case "ExchangeNotAssetOwner":
      return `Asset #${String(args[0])} is not yours to sell.`;
    case "ExchangeAssetNotInFeed":
      return `Asset #${String(args[0])} delivers to another feed than this market's.`;
    case "ExchangeAssetCannotSell":
      return `Asset #${String(args[0])} is a load: it cannot sell.`;
    case "ExchangeAssetNotRenewable":
      return `Asset #${String(args[0])} is not renewable: it cannot sell on the renewable market.`;
    case "ExchangeOverCapacity":
      return `${String(args[1])} Wh is more than asset #${String(args[0])} can deliver in an epoch (${String(args[2])} Wh).`;
    case "ExchangeAssetAlreadyOffered":
      return `Asset #${String(args[0])} already has an offer in epoch ${String(args[1])}.`;
    case "CertificatesZeroAmount":
      return "The amount must be more than zero.";
    case "GovernorAlreadyCastVote":
      return "You have already voted on this proposal.";
    case "GovernorUnexpectedProposalState":
      return `Voting is not open on this proposal: it is ${PROPOSAL_STATES[Number(args[1])] ?? `in state ${String(args[1])}`}.`;
    case "GovernorNonexistentProposal":
      return "There is no such proposal on chain.";
    case "GovernorInvalidVoteType":
      return "That is not a valid vote (for, against or abstain).";
    case "GovernorInsufficientProposerVotes":
      return `Proposing needs ${g(args[2])} of votes; you have ${g(args[1])}.`;
    default:
      return `The contract refused: ${name.replace(/([a-z])([A-Z])/g, "$1 $2")}${args.length ? ` (${args.join(", ")})` : ""}.`;
  }
}

/** A sentence for any failure: custom errors decoded, user rejections and the rest shortened. */
export function explain(err: unknown): string {
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      return sentence(reverted.data.errorName, reverted.data.args ?? []);
    }
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Simulate (so a revert is decoded before anything is signed), send, wait for the receipt. */
export async function call(
  account: Address,
  c: ContractInfo,
  functionName: string,
  args: readonly unknown[],
): Promise<`0x${string}`> {
  const transport = custom(provider());
  const pub = createPublicClient({ transport });
  const wallet = createWalletClient({ account, transport });
  const { request } = await pub.simulateContract({ account, address: c.address, abi: c.abi, functionName, args });
  const hash = await wallet.writeContract({ ...request, chain: null } as Parameters<typeof wallet.writeContract>[0]);
  const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== "success") throw new Error(`Transaction ${hash} reverted.`);
  return hash;
}

export async function read(c: ContractInfo, functionName: string, args: readonly unknown[]): Promise<unknown> {
  const pub = createPublicClient({ transport: custom(provider()) });
  return pub.readContract({ address: c.address, abi: c.abi, functionName, args });
}
