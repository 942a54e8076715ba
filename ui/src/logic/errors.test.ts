import { describe, expect, it } from "vitest";
import { friendlyError, refusal } from "./errors";

describe("friendlyError", () => {
  it("never shows the core's 'server refused' wording or the contract code", () => {
    for (const raw of [
      "server refused: that userName is taken (conflict)",
      "server refused: password must be at least 8 characters (invalid)",
      "server refused: this server takes new accounts by invite only (forbidden)",
      "server refused: wrong userName or password (unauthenticated)",
      "server refused: slow down (rate_limited)",
    ]) {
      for (const doing of ["sign-in", "register", "other"] as const) {
        const text = friendlyError(raw, doing);
        expect(text).not.toMatch(/server refused|\((conflict|invalid|forbidden|unauthenticated|rate_limited)\)|userName/);
        expect(text).toMatch(/^[A-Z].*[.!?]$/);
      }
    }
  });

  it("says what a refusal means for what was being done", () => {
    expect(friendlyError("server refused: that userName is taken (conflict)", "register")).toBe(
      "That user name is taken. Choose another, or sign in if it is yours.",
    );
    expect(friendlyError("server refused: wrong userName or password (unauthenticated)", "sign-in")).toBe("Wrong user name or password.");
    expect(friendlyError("server refused: password must be at least 8 characters (invalid)", "register")).toBe(
      "Password must be at least 8 characters.",
    );
    expect(friendlyError("cannot reach the server: error sending request for url (http://x/api/login)", "sign-in")).toBe(
      "Cannot reach the server. Check the address and your connection, then try again.",
    );
  });

  it("keeps the app's own sentences as they are", () => {
    expect(friendlyError("Wrong user name or password.")).toBe("Wrong user name or password.");
    expect(refusal("Wrong user name or password.")).toBeNull();
    expect(refusal("server refused: a (b) c (not_found)")).toEqual({ code: "not_found", message: "a (b) c" });
  });
});
