// Number formatting: on-chain integers scaled by decimals (feeds) or 18 (GRID).
export function scaled(v: string | number | null | undefined, decimals: number): number | null {
  if (v === null || v === undefined) return null;
  return Number(v) / 10 ** decimals;
}

export function grid(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  const n = Number(BigInt(String(v)) / 10n ** 12n) / 1e6;
  return n.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function short(addr: string | null | undefined): string {
  if (!addr) return "–";
  return `${addr.slice(0, 6)}…${addr.slice(-4)}`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`;
}

// Okabe–Ito: distinguishable with the common forms of colour blindness.
export const PALETTE = {
  consensus: "#0072B2",
  band: "rgba(86, 180, 233, 0.30)",
  bandLine: "#56B4E9",
  truth: "#000000",
  operators: ["#E69F00", "#009E73", "#CC79A7", "#D55E00", "#F0E442", "#999999"],
};
