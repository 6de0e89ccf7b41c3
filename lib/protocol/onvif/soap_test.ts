import { describe, expect, it } from "bun:test";
import { elementText, findElements, parseAttributes, startTags, xmlUnescape } from "./soap.ts";

describe("the SOAP reader", () => {
  it("finds elements under any prefix, with attributes in either quotes, self-closing or not", () => {
    const xml = `<?xml version="1.0"?><s:Envelope><s:Body><trt:Profiles token="main" fixed='true'>` +
      `<tt:Name>Main &amp; only</tt:Name></trt:Profiles><Profiles token="sub"/></s:Body></s:Envelope>`;
    expect(findElements(xml, "Profiles")).toEqual([
      { attributes: { token: "main", fixed: "true" }, inner: "<tt:Name>Main &amp; only</tt:Name>" },
      { attributes: { token: "sub" }, inner: "" },
    ]);
    expect(elementText(xml, "Name")).toBe("Main & only");
    expect(elementText(xml, "Missing")).toBeUndefined();
  });

  it("lists start tags only, with prefix and local name; a `<` inside a would-be tag ends it", () => {
    const tags = [...startTags(`<!-- c --><?pi?><a:B x="1"><C/></a:B><D <E>text</E>`)];
    expect(tags.map((t) => [t.prefix, t.local, t.selfClosing])).toEqual([
      ["a", "B", false],
      ["", "C", true],
      ["", "E", false],
    ]);
    expect(tags[0].attributes).toBe(` x="1"`);
  });

  it('stops at what is not name="value", and at an unclosed quote', () => {
    expect(parseAttributes(` xmlns="urn:a" xmlns:t='urn:t' s:mustUnderstand="1"`)).toEqual({
      xmlns: "urn:a",
      t: "urn:t",
      mustUnderstand: "1",
    });
    expect(parseAttributes(` a="1" junk b="2"`)).toEqual({ a: "1" });
    expect(parseAttributes(` a="1" b="open`)).toEqual({ a: "1" });
  });

  it("an element without its closing tag ends the search; text keeps a `<` with no `>`", () => {
    expect(findElements("<Uri>rtsp://a</Uri><Uri>rtsp://b", "Uri").map((e) => e.inner)).toEqual(["rtsp://a"]);
    expect(elementText("<Name>a < b</Name>", "Name")).toBe("a < b");
    expect(elementText("<Name>a <i>b</i> c</Name>", "Name")).toBe("a b c");
  });

  it("leaves character references that are no code point as written", () => {
    expect(xmlUnescape("&#x41;&#66;&#x110000;&#99999999999;&lt;")).toBe("AB&#x110000;&#99999999999;<");
  });
});
