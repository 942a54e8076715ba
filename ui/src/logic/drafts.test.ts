// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { Drafts } from "./drafts";

afterEach(() => {
  localStorage.clear();
  vi.useRealTimers();
});

describe("Drafts", () => {
  it("keeps each room's draft across a restart, and a blank one is none", () => {
    vi.useFakeTimers();
    const a = new Drafts("k");
    a.set("r1", "half a thought");
    a.set("r2", "   ");
    expect(localStorage.getItem("k")).toBeNull();
    vi.advanceTimersByTime(600);
    const b = new Drafts("k");
    expect(b.get("r1")).toBe("half a thought");
    expect(b.get("r2")).toBeUndefined();
    b.delete("r1");
    b.flush();
    expect(localStorage.getItem("k")).toBeNull();
  });

  it("reads a damaged copy as no drafts, and clear forgets them", () => {
    localStorage.setItem("k", "{not json");
    expect(new Drafts("k").get("r1")).toBeUndefined();
    localStorage.setItem("k", JSON.stringify({ r1: "kept", r2: 7 }));
    const d = new Drafts("k");
    expect(d.get("r1")).toBe("kept");
    expect(d.get("r2")).toBeUndefined();
    d.clear();
    expect(localStorage.getItem("k")).toBeNull();
  });
});
