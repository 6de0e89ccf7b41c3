/**
 * The one place that imports the NATS client (`@nats-io/transport-node` + `@nats-io/kv`, v3; runs on
 * Node, Deno and Bun). Hands the cluster two small KV buckets behind a neutral interface, so the rest
 * of server/cluster/ does not depend on the client's types.
 *
 * @module
 */
// The client loads on the first connect: only a server with `cluster:` needs it, and loading it
// costs ~3 MB of memory in every process (docs/performance.md).
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";

/** One stored value and its revision (the compare-and-set token). */
export interface KvValue {
  key: string;
  value: string;
  revision: number;
}

/** The KV operations the cluster uses. */
export interface ClusterKv {
  put(key: string, value: string): Promise<number>;
  get(key: string): Promise<KvValue | undefined>;
  /** Fails with {@link KvConflictError} when the key exists. */
  create(key: string, value: string): Promise<number>;
  /** Fails with {@link KvConflictError} unless the key is at `revision`. */
  update(key: string, value: string, revision: number): Promise<number>;
  delete(key: string): Promise<void>;
  /** Every key's latest value (deleted keys left out). */
  all(): Promise<KvValue[]>;
}

/** Another writer changed the key first (compare-and-set lost). */
export class KvConflictError extends Error {
  override name = "KvConflictError";
  constructor(readonly key: string, cause: unknown) {
    super(`KV key "${key}" was changed by another node first`, { cause });
  }
}

/** Where and how to reach NATS. */
export interface NatsOptions {
  servers: string[];
  username?: string;
  password?: string;
  token?: string;
  /** Called with `true` when connected again after a loss, `false` when the connection dropped. */
  onConnection?: (up: boolean) => void;
}

/** An open NATS connection with the cluster's buckets. */
export interface NatsLink {
  bucket(name: string, options: { ttlMs?: number }): Promise<ClusterKv>;
  /** Whether the connection is up now. */
  readonly connected: boolean;
  close(): Promise<void>;
}

/**
 * Connects to NATS (retrying forever in the background once the first connect worked).
 *
 * @example
 * ```ts
 * const link = await connectNats({ servers: ["nats://127.0.0.1:4222"] });
 * const owners = await link.bucket("strom_owners", {});
 * await owners.create("cam", "node-1");
 * ```
 */
export async function connectNats(options: NatsOptions): Promise<NatsLink> {
  const [{ connect }, { Kvm }] = await Promise.all([import("@nats-io/transport-node"), import("@nats-io/kv")]);
  const nc: NatsConnection = await connect({
    servers: options.servers,
    user: options.username || undefined,
    pass: options.password || undefined,
    token: options.token || undefined,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    name: "strom",
  });
  let connected = true;
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        connected = false;
        options.onConnection?.(false);
      } else if (s.type === "reconnect") {
        connected = true;
        options.onConnection?.(true);
      }
    }
  })().catch(() => {});
  const kvm = new Kvm(nc);
  return {
    get connected() {
      return connected && !nc.isClosed();
    },
    async bucket(name, o) {
      const config = { history: 1, storage: "file" as const, ...(o.ttlMs ? { ttl: o.ttlMs } : {}) };
      for (let attempt = 1; ; attempt++) {
        try {
          return wrap(await kvm.create(name, config));
        } catch (error) {
          // Nodes started together create the bucket at the same moment. nats-server 2.9 answers
          // the loser with "subjects overlap with an existing stream" (or "already in use") although
          // the bucket is now there: opening it again finds it.
          if (attempt >= BUCKET_ATTEMPTS || !isCreateRace(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    },
    async close() {
      await nc.close().catch(() => {});
    },
  };
}

const BUCKET_ATTEMPTS = 4;

function isCreateRace(error: unknown): boolean {
  return /subjects overlap|already in use/i.test(String((error as Error)?.message ?? error));
}

function isConflict(error: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? error));
}

function wrap(kv: KV): ClusterKv {
  const text = new TextDecoder();
  return {
    put: (key, value) => kv.put(key, value),
    async get(key) {
      const e = await kv.get(key);
      if (!e || e.operation !== "PUT") return undefined;
      return { key, value: text.decode(e.value), revision: e.revision };
    },
    async create(key, value) {
      try {
        return await kv.create(key, value);
      } catch (error) {
        if (isConflict(error)) throw new KvConflictError(key, error);
        throw error;
      }
    },
    async update(key, value, revision) {
      try {
        return await kv.update(key, value, revision);
      } catch (error) {
        if (isConflict(error)) throw new KvConflictError(key, error);
        throw error;
      }
    },
    delete: (key) => kv.delete(key),
    async all() {
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      const out: KvValue[] = [];
      for (const key of keys) {
        const e = await kv.get(key);
        if (e && e.operation === "PUT") out.push({ key, value: text.decode(e.value), revision: e.revision });
      }
      return out;
    },
  };
}
