import { describe, expect, it } from "vitest";
import { member } from "./fixtures";
import { mentionedWords, mentionsIn } from "./mentions";

describe("mentions", () => {
  it("reads @words, not e-mail addresses, and a trailing dot is punctuation", () => {
    expect(mentionedWords("@bob, see @Carol_2. and mail x@example.com @room!")).toEqual(["bob", "Carol_2", "room"]);
  });
  it("resolves members by login name in any case, each once, and the room", () => {
    const members = [member("alice"), member("bob")];
    expect(mentionsIn("@Bob @bob @nobody hi", members)).toEqual({ mentions: ["bob"], mentionsRoom: false });
    expect(mentionsIn("@everyone lunch", members)).toEqual({ mentions: [], mentionsRoom: true });
  });
});
