import { describe, expect, it } from "vitest";
import { composerAction, lastEditable, outgoingText, pasteAction, type ComposerKey } from "./composer";
import { msg, pending } from "./fixtures";

const key = (k: string, mods: Partial<ComposerKey> = {}): ComposerKey => ({
  key: k,
  shiftKey: false,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  isComposing: false,
  ...mods,
});
const typed = (text: string, editing = false) => ({ text, editing });

describe("composerAction", () => {
  it("sends on Enter", () => {
    expect(composerAction(key("Enter"), typed("hi"))).toBe("send");
    expect(composerAction(key("Enter", { ctrlKey: true }), typed("hi"))).toBe("send");
  });
  it("breaks the line on Shift+Enter (and Alt+Enter)", () => {
    expect(composerAction(key("Enter", { shiftKey: true }), typed("hi"))).toBe("newline");
    expect(composerAction(key("Enter", { altKey: true }), typed("hi"))).toBe("newline");
  });
  it("does not send blank text, nor add a line for it", () => {
    expect(composerAction(key("Enter"), typed("  \n "))).toBe("none");
    expect(composerAction(key("Enter"), typed("", true))).toBe("none");
  });
  it("leaves Enter to an input method that is composing", () => {
    expect(composerAction(key("Enter", { isComposing: true }), typed("にほん"))).toBe("default");
    expect(composerAction(key("Enter", { keyCode: 229 }), typed("にほん"))).toBe("default");
  });
  it("edits the last message on Up only in an empty composer", () => {
    expect(composerAction(key("ArrowUp"), typed(""))).toBe("edit-last");
    expect(composerAction(key("ArrowUp"), typed("draft"))).toBe("default");
    expect(composerAction(key("ArrowUp", { shiftKey: true }), typed(""))).toBe("default");
    expect(composerAction(key("ArrowUp"), typed("", true))).toBe("default");
  });
  it("saves an edit on Enter and cancels it on Escape", () => {
    expect(composerAction(key("Enter"), typed("fixed", true))).toBe("send");
    expect(composerAction(key("Escape"), typed("fixed", true))).toBe("cancel-edit");
    expect(composerAction(key("Escape"), typed("draft"))).toBe("default");
  });
  it("cancels a reply on Escape, an edit first", () => {
    expect(composerAction(key("Escape"), { text: "so", editing: false, replying: true })).toBe("cancel-reply");
    expect(composerAction(key("Escape"), { text: "so", editing: true, replying: true })).toBe("cancel-edit");
  });
  it("ignores other keys", () => {
    expect(composerAction(key("a"), typed(""))).toBe("default");
  });
});

describe("lastEditable", () => {
  it("picks the user's newest text message, pending ones included", () => {
    const list = [msg({ localId: 1, senderId: "me" }), msg({ localId: 2, senderId: "bob" }), pending(3, { senderId: "me" })];
    expect(lastEditable(list, "me")?.localId).toBe(3);
  });
  it("skips deleted, failed and non-text messages, and others' messages", () => {
    const list = [
      msg({ localId: 1, senderId: "me" }),
      msg({ localId: 2, senderId: "me", deletedAt: "2024-03-05T10:00:00Z" }),
      msg({ localId: 3, senderId: "me", type: "image" }),
      pending(4, { senderId: "me", delivery: "failed" }),
      msg({ localId: 5, senderId: "bob" }),
    ];
    expect(lastEditable(list, "me")?.localId).toBe(1);
  });
  it("finds nothing when the user has not written", () => {
    expect(lastEditable([msg({ senderId: "bob" })], "me")).toBeNull();
  });
});

describe("outgoingText", () => {
  it("drops blank lines around the text and keeps inner ones", () => {
    expect(outgoingText("\n\nhello\n\nworld\n  \n")).toBe("hello\n\nworld");
    expect(outgoingText("  indented")).toBe("  indented");
  });
});

describe("pasteAction", () => {
  const paste = (imageCount: number, text: string, editing = false) => ({ imageCount, text, editing });
  it("sends pasted image files the usual way", () => {
    expect(pasteAction(paste(1, ""))).toBe("images");
    expect(pasteAction(paste(2, "file:///a.png"))).toBe("images");
  });
  it("leaves text to the textarea", () => {
    expect(pasteAction(paste(0, "hello"))).toBe("default");
    expect(pasteAction(paste(0, " "))).toBe("default");
  });
  it("asks the shell for the clipboard's image when the paste carries neither", () => {
    expect(pasteAction(paste(0, ""))).toBe("clipboard");
  });
  it("pastes only text into an edit", () => {
    expect(pasteAction(paste(1, "", true))).toBe("default");
    expect(pasteAction(paste(0, "", true))).toBe("default");
  });
});
