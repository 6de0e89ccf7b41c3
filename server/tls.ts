/**
 * TLS for the servers: `api.tls_cert` / `api.tls_key` (go2rtc keys) as a file path or inline PEM,
 * loaded at start and again on SIGHUP (renewed certificates take effect without a restart).
 *
 * @module
 */
import { readTextFile } from "../lib/runtime/fs.ts";
import type { TlsFiles } from "./serve/types.ts";

/**
 * A TLS setting that cannot be used: missing, unreadable or not PEM.
 *
 * @example
 * ```ts
 * try { await loadTlsFiles(config.api); } catch (e) { if (e instanceof TlsConfigError) console.log(e.key); }
 * ```
 */
export class TlsConfigError extends Error {
  override name = "TlsConfigError";
  /** The config key at fault (`api.tls_cert`, `api.tls_key`). */
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`${key}: ${reason}`);
    this.key = key;
  }
}

async function pem(key: string, value: string, kind: "CERTIFICATE" | "PRIVATE KEY"): Promise<string> {
  if (!value) throw new TlsConfigError(key, "is empty; give a file path or inline PEM (api.tls_listen needs both api.tls_cert and api.tls_key)");
  let text = value;
  if (!value.includes("-----BEGIN")) {
    try {
      text = await readTextFile(value);
    } catch (error) {
      throw new TlsConfigError(key, `cannot read "${value}": ${(error as Error).message}`);
    }
  }
  const marker = kind === "CERTIFICATE" ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
  if (!marker.test(text)) {
    throw new TlsConfigError(key, `holds no PEM ${kind.toLowerCase()} (expected a "-----BEGIN ${kind}-----" block)`);
  }
  return text;
}

/**
 * The certificate chain and key the config names (file paths are read now).
 *
 * @throws {TlsConfigError} naming the key that is empty, unreadable or not PEM.
 * @example
 * ```ts
 * const tls = await loadTlsFiles({ tls_cert: "/etc/strom/cert.pem", tls_key: "/etc/strom/key.pem" });
 * ```
 */
export async function loadTlsFiles(api: { tls_cert?: string; tls_key?: string }): Promise<TlsFiles> {
  return {
    cert: await pem("api.tls_cert", api.tls_cert ?? "", "CERTIFICATE"),
    key: await pem("api.tls_key", api.tls_key ?? "", "PRIVATE KEY"),
  };
}
