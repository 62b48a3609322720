// decodeFunctionData alone, loaded on demand (shares its viem modules with the wallet chunk).
export { decodeFunctionData } from "viem";
