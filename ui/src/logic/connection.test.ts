import { describe, expect, it } from "vitest";
import { connectionBanner } from "./connection";

describe("connectionBanner", () => {
  it("is hidden while online", () => {
    expect(connectionBanner("online", true)).toBeNull();
  });
  it("warns when offline", () => {
    const b = connectionBanner("offline", true);
    expect(b?.text).toMatch(/^Offline/);
    expect(b?.tone).toBe("warn");
  });
  it("says connecting the first time and reconnecting after a drop", () => {
    expect(connectionBanner("connecting", false)?.text).toBe("Connecting…");
    expect(connectionBanner("connecting", true)?.text).toBe("Reconnecting…");
  });
  it("says catching up while syncing", () => {
    expect(connectionBanner("syncing", true)?.text).toBe("Catching up…");
  });
  it("asks to sign in again when signed out", () => {
    expect(connectionBanner("signed_out", true)?.text).toMatch(/sign in again/);
  });
});
