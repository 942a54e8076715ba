import { describe, expect, it } from "vitest";
import { messageLink, parseMessageLink } from "./links";

describe("message links", () => {
  it("round-trip any room and message id", () => {
    const link = messageLink("d:a/b:c d", "0193-x");
    expect(link).toBe("leetchat://message/d%3Aa%2Fb%3Ac%20d/0193-x");
    expect(parseMessageLink(link)).toEqual({ roomId: "d:a/b:c d", messageId: "0193-x" });
  });
  it("are nothing else", () => {
    expect(parseMessageLink("https://example.com/message/a/b")).toBeNull();
    expect(parseMessageLink("leetchat://message/only-room")).toBeNull();
    expect(parseMessageLink("leetchat://message/a/b/c")).toBeNull();
    expect(parseMessageLink("leetchat://message/%E0%A4%A/b")).toBeNull();
  });
});
