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

/** Energy in Wh, shown in Wh, kWh or MWh. */
export function wh(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  const n = Number(v);
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toLocaleString("en-US", { maximumFractionDigits: 3 })} MWh`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toLocaleString("en-US", { maximumFractionDigits: 3 })} kWh`;
  return `${n.toLocaleString("en-US")} Wh`;
}

/** An integer amount in token base units, grouped (exact for any size). */
export function units(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  return BigInt(String(v)).toLocaleString("en-US");
}

/** A UTC day number (days since 1970-01-01) as a date. */
export function day(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  return new Date(Number(v) * 86_400_000).toISOString().slice(0, 10);
}
