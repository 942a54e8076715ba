// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { member, msg, room } from "../logic/fixtures";
import { parseQuery } from "../logic/search";
import { SearchResults } from "./searchresults";

const now = new Date("2024-03-05T12:00:00Z");
const q = parseQuery("whale migr");
if (!q) throw new Error("no query");
const rooms = new Map([["r1", room({ type: "group", name: "archive", members: [member("alice"), member("bob")] })]]);

describe("message results", () => {
  it("show the chat, the sender and the words found, and open the message when picked", () => {
    const open = vi.fn();
    const r = new SearchResults(open, vi.fn());
    const hit = msg({ senderId: "bob", content: "the blue Whale migrates in spring", island: true });
    r.render({ query: q, results: [hit], fromServer: true, loading: false, more: false, error: null }, rooms, "alice", now);
    expect(r.el.hidden).toBe(false);
    const row = r.el.querySelector<HTMLButtonElement>(".search-result");
    expect(row?.querySelector(".result-room")?.textContent).toBe("archive");
    expect(row?.querySelector(".result-sender")?.textContent).toBe("Bob");
    expect([...(row?.querySelectorAll("mark") ?? [])].map((m) => m.textContent)).toEqual(["Whale", "migrates"]);
    expect(row?.querySelector(".result-text")?.textContent).toBe("the blue Whale migrates in spring");
    row?.click();
    expect(open).toHaveBeenCalledWith(hit);
    expect(r.el.querySelector<HTMLElement>(".search-more")?.hidden).toBe(true);
  });

  it("say when nothing was found, when only this device was searched, and offer more", () => {
    const r = new SearchResults(vi.fn(), vi.fn());
    const status = () => r.el.querySelector(".search-status")?.textContent;
    r.render({ query: q, results: [], fromServer: true, loading: true, more: false, error: null }, rooms, "alice", now);
    expect(status()).toBe("Searching…");
    r.render({ query: q, results: [], fromServer: true, loading: false, more: false, error: null }, rooms, "alice", now);
    expect(status()).toBe("No messages found.");
    r.render({ query: q, results: [], fromServer: false, loading: false, more: false, error: null }, rooms, "alice", now);
    expect(status()).toContain("Offline");
    r.render({ query: q, results: [msg({})], fromServer: true, loading: false, more: true, error: null }, rooms, "alice", now);
    expect(r.el.querySelector<HTMLElement>(".search-more")?.hidden).toBe(false);
    r.render({ query: q, results: [], fromServer: true, loading: false, more: false, error: "rate limited" }, rooms, "alice", now);
    expect(status()).toBe("Search failed: rate limited");
    r.hide();
    expect(r.el.hidden).toBe(true);
  });
});
