/** The V8 flags strom runs with on Deno (see deno_flags.mjs). */
export declare const DENO_V8_FLAGS: string;
