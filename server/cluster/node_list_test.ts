import { describe, expect, test } from "bun:test";
import { findSelf, isThisHost, listedNodes, NodeListError, nodeApiUrl } from "./node_list.ts";

describe("cluster.nodes", () => {
  test("addresses as the seed article writes them, and with a scheme", () => {
    expect(nodeApiUrl("192.168.1.101:1984", 0)).toEqual({ api: "http://192.168.1.101:1984", host: "192.168.1.101", port: 1984 });
    expect(nodeApiUrl("https://nvr-2.lan:8443/", 1)).toEqual({ api: "https://nvr-2.lan:8443", host: "nvr-2.lan", port: 8443 });
    expect(nodeApiUrl("[fd00::2]:1984", 2)).toEqual({ api: "http://[fd00::2]:1984", host: "fd00::2", port: 1984 });
  });

  test("a bad address or a repeated name names its key and the fix", () => {
    const bad = (address: string) => {
      try {
        nodeApiUrl(address, 3);
      } catch (error) {
        expect(error).toBeInstanceOf(NodeListError);
        return (error as NodeListError).message;
      }
      throw new Error(`${address} was accepted`);
    };
    expect(bad("192.168.1.101")).toContain("cluster.nodes[3].address: \"192.168.1.101\" has no port");
    expect(bad("rtsp://10.0.0.1:8554")).toContain("http:// or https://");
    expect(bad("http://admin:pw@10.0.0.1:1984")).toContain("cluster.username");
    expect(() => listedNodes([{ name: "a", address: "h:1", weight: 1 }, { name: "a", address: "h:2", weight: 1 }]))
      .toThrow('cluster.nodes[1].name: "a" is listed twice');
  });

  test("a node finds itself by api.listen's port and its own addresses, or by cluster.node", () => {
    const nodes = listedNodes([
      { name: "node-1", address: "192.168.1.101:1984", weight: 1 },
      { name: "node-2", address: "192.168.1.102:1984", weight: 1 },
      { name: "node-3", address: "127.0.0.1:1985", weight: 2 },
    ]);
    const here = ["192.168.1.102", "fe80::1%eth0"];
    expect(findSelf(nodes, "", ":1984", here).name).toBe("node-2");
    expect(findSelf(nodes, "", "127.0.0.1:1985", here).name).toBe("node-3");
    expect(findSelf(nodes, "node-1", ":1984", here).name).toBe("node-1");
    expect(() => findSelf(nodes, "", ":1984", ["10.0.0.9"])).toThrow("no entry of cluster.nodes is this machine at port 1984");
    expect(() => findSelf(nodes, "node-9", ":1984", here)).toThrow('cluster.node: "node-9" is not in cluster.nodes');
    expect(() => findSelf(nodes, "", "127.0.0.1:0", here)).toThrow("set cluster.node");
    expect(isThisHost("localhost", [])).toBe(true);
    expect(isThisHost("::ffff:127.0.0.1", [])).toBe(true);
    expect(isThisHost("fe80::1", here)).toBe(true);
  });
});
