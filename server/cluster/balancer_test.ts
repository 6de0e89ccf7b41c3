import { describe, expect, test } from "bun:test";
import { type BalancerNode, ViewerBalancer } from "./balancer.ts";

const nodes = (loads: [number, number, number], weights: [number, number, number] = [1, 1, 1]): BalancerNode[] => [
  { name: "a", weight: weights[0], load: loads[0], self: true },
  { name: "b", weight: weights[1], load: loads[1] },
  { name: "c", weight: weights[2], load: loads[2] },
];

describe("ViewerBalancer", () => {
  test("least-connections: fewest viewers per weight; viewers sent since the last report count; ties stay here", () => {
    const lb = new ViewerBalancer({ algorithm: "least-connections", sticky: false, stickySeconds: 0 });
    expect(lb.pick(nodes([0, 0, 0]), "x")?.name).toBe("a");
    expect(lb.pick(nodes([4, 1, 2]), "x")?.name).toBe("b");
    // b still reports 1: the viewer just sent there counts, so the next goes to c (2) or b (1+1): tie -> b by name
    expect(lb.pick(nodes([4, 1, 2]), "x")?.name).toBe("b");
    expect(lb.pick(nodes([4, 1, 2]), "x")?.name).toBe("c");
    // A new report from b resets what was counted for it.
    expect(lb.pick(nodes([4, 0, 9]), "x")?.name).toBe("b");
    // weight 3 takes three times the viewers
    expect(lb.pick(nodes([2, 9, 5], [1, 1, 3]), "x")?.name).toBe("c");
  });

  test("round-robin: each node in turn, weight 2 twice as often", () => {
    const lb = new ViewerBalancer({ algorithm: "round-robin", sticky: false, stickySeconds: 0 });
    const picks = Array.from({ length: 8 }, () => lb.pick(nodes([0, 0, 0], [1, 1, 2]), undefined)!.name);
    expect(picks.filter((n) => n === "c").length).toBe(4);
    expect(picks.filter((n) => n === "a").length).toBe(2);
    expect(picks.filter((n) => n === "b").length).toBe(2);
    expect(picks.slice(0, 4).sort()).toEqual(["a", "b", "c", "c"]);
  });

  test("sticky clients stay on their node until the timeout or until it is gone; none balances nothing", () => {
    let now = 0;
    const lb = new ViewerBalancer({ algorithm: "round-robin", sticky: true, stickySeconds: 60, now: () => now });
    const first = lb.pick(nodes([0, 0, 0]), "10.0.0.7")!.name;
    for (let i = 0; i < 5; i++) expect(lb.pick(nodes([0, 0, 0]), "10.0.0.7")!.name).toBe(first);
    expect(lb.pick(nodes([0, 0, 0]), "10.0.0.8")!.name).not.toBe(first);
    now += 59_000;
    expect(lb.pick(nodes([0, 0, 0]), "10.0.0.7")!.name).toBe(first);
    // Its node is gone: another one, remembered from now on.
    const without = nodes([0, 0, 0]).filter((n) => n.name !== first);
    const moved = lb.pick(without, "10.0.0.7")!.name;
    expect(moved).not.toBe(first);
    expect(lb.pick(nodes([0, 0, 0]), "10.0.0.7")!.name).toBe(moved);
    now += 61_000;
    const off = new ViewerBalancer({ algorithm: "none", sticky: true, stickySeconds: 60 });
    expect(off.enabled).toBe(false);
    expect(off.pick(nodes([9, 0, 0]), "x")).toBeUndefined();
  });

  test("at most maxClients are remembered", () => {
    const lb = new ViewerBalancer({ algorithm: "round-robin", sticky: true, stickySeconds: 3600, maxClients: 2 });
    const a = lb.pick(nodes([0, 0, 0]), "1")!.name;
    lb.pick(nodes([0, 0, 0]), "2");
    lb.pick(nodes([0, 0, 0]), "3");
    lb.pick(nodes([0, 0, 0]), "4");
    // "1" was forgotten (remembered, it would stay on a): it takes the next turn, b.
    const again = lb.pick(nodes([0, 0, 0]), "1")!.name;
    expect([a, again]).toEqual(["a", "b"]);
  });
});
