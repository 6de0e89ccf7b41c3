/**
 * strom's version, from package.json.
 *
 * @module
 */
import pkg from "../package.json" with { type: "json" };

/**
 * The package version, e.g. `"0.1.0"`.
 *
 * @example
 * ```ts
 * console.log(`strom ${VERSION}`);
 * ```
 */
export const VERSION: string = (pkg as { version: string }).version;
