import { describe, expect, it } from "vitest";
import { fold, matchSpans, parseQuery, snippet } from "./search";

const marked = (text: string, q: string): string[] => {
  const query = parseQuery(q);
  if (!query) throw new Error("no query");
  return matchSpans(text, query).map((s) => text.slice(s.start, s.end));
};

describe("search words", () => {
  it("fold case and accents as the server does", () => {
    expect(fold("Café")).toBe("cafe");
    expect(fold("ÅNGSTRÖM")).toBe("angstrom");
    expect(fold("ﬁnal")).toBe("final");
    expect(fold("안녕")).toBe("안녕");
    expect(fold("Straße")).toBe(fold("STRASSE"));
    expect(fold("ΟΔΟΣ")).toBe(fold("οδός"));
  });

  it("parse like the core: the last word is the prefix, nothing to search is null", () => {
    expect(parseQuery("Deploy the SERV")).toEqual({ whole: ["deploy", "the"], prefix: "serv" });
    expect(parseQuery("cat cat")).toEqual({ whole: [], prefix: "cat" });
    expect(parseQuery("   ")).toBeNull();
    expect(parseQuery("?!")).toBeNull();
    expect(parseQuery("x".repeat(201))).toBeNull();
  });

  it("mark whole words and the words the last one starts", () => {
    expect(marked("Rendez-vous au Café Crème", "cafe crem")).toEqual(["Café", "Crème"]);
    expect(marked("deploying the server, deploy!", "deploy serv")).toEqual(["server", "deploy"]);
    expect(marked("東京タワー", "東京")).toEqual(["東", "京"]);
    expect(marked("nothing here", "zebra")).toEqual([]);
  });
});

describe("snippets", () => {
  it("keep short texts whole", () => {
    const q = parseQuery("whale");
    if (!q) throw new Error("no query");
    const s = snippet("the blue whale\nmigrates", q);
    expect(s.text).toBe("the blue whale migrates");
    expect(s.marks.map((m) => s.text.slice(m.start, m.end))).toEqual(["whale"]);
  });

  it("cut long texts around the first match, marks still on it", () => {
    const q = parseQuery("needle");
    if (!q) throw new Error("no query");
    const text = `${"hay ".repeat(60)}the needle is here ${"hay ".repeat(30)}`;
    const s = snippet(text, q, 60);
    expect(s.text.startsWith("…")).toBe(true);
    expect(s.text.endsWith("…")).toBe(true);
    expect(s.marks.map((m) => s.text.slice(m.start, m.end))).toEqual(["needle"]);
  });
});
