import { describe, expect, it } from "vitest";
import { member } from "./fixtures";
import { completeMention, mentionChoices, mentionQuery, mentionedWords, mentionsIn } from "./mentions";

describe("mentions", () => {
  it("reads @words, not e-mail addresses, and a trailing dot is punctuation", () => {
    expect(mentionedWords("@bob, see @Carol_2. and mail x@example.com @room!")).toEqual(["bob", "Carol_2", "room"]);
  });
  it("resolves members by login name in any case, each once, and the room", () => {
    const members = [member("alice"), member("bob")];
    expect(mentionsIn("@Bob @bob @nobody hi", members)).toEqual({ mentions: ["bob"], mentionsRoom: false });
    expect(mentionsIn("@everyone lunch", members)).toEqual({ mentions: [], mentionsRoom: true });
  });

  it("finds the @word being typed at the caret, not one already written or an e-mail address", () => {
    expect(mentionQuery("hi @bo", 6)).toEqual({ start: 3, prefix: "bo" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, prefix: "" });
    expect(mentionQuery("hi @bob and", 11)).toBeNull();
    expect(mentionQuery("mail x@ex", 9)).toBeNull();
    // The caret in the middle of a word is not its end.
    expect(mentionQuery("@bobby", 3)).toBeNull();
  });
  it("offers members by login, then by shown name, never the user, and @room in groups", () => {
    const members = [
      member("alice"),
      member("bob", { displayName: "Robert Smith" }),
      member("bella", { displayName: "Bella" }),
      member("rob", { displayName: "Rob" }),
      member("carol", { userName: "" }),
    ];
    expect(mentionChoices("b", members, "alice", false).map((c) => c.word)).toEqual(["bella", "bob"]);
    expect(mentionChoices("ro", members, "alice", true).map((c) => c.word)).toEqual(["rob", "bob", "room"]);
    expect(mentionChoices("", members, "alice", false).map((c) => c.word)).toEqual(["bella", "bob", "rob"]);
    expect(mentionChoices("zz", members, "alice", true)).toEqual([]);
  });
  it("completes the @word with the login name and a space, keeping the rest", () => {
    const text = "hi @bo see you";
    const q = mentionQuery(text, 6);
    expect(q).not.toBeNull();
    const done = completeMention(text, q!, { word: "bob", label: "Bob", userId: "bob" });
    expect(done).toEqual({ text: "hi @bob see you", caret: 8 });
    expect(completeMention("@", { start: 0, prefix: "" }, { word: "room", label: "Everyone" })).toEqual({ text: "@room ", caret: 6 });
  });
});
