// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { Composer } from "./composer";
import { FileUrls } from "./attachments";

describe("FileUrls", () => {
  it("fetches each picture once, shares a fetch in flight and keeps the URL", async () => {
    const loader = vi.fn(async (id: string, thumb: boolean) => `u:${id}:${thumb}`);
    const urls = new FileUrls(loader);
    expect(urls.peek("a", true)).toBeUndefined();
    const [x, y] = await Promise.all([urls.load("a", true), urls.load("a", true)]);
    expect(x).toBe("u:a:true");
    expect(y).toBe("u:a:true");
    expect(await urls.load("a", false)).toBe("u:a:false");
    expect(await urls.load("a", true)).toBe("u:a:true");
    expect(loader).toHaveBeenCalledTimes(2);
    expect(urls.peek("a", true)).toBe("u:a:true");
  });

  it("tries again after a failure", async () => {
    const loader = vi.fn().mockRejectedValueOnce("offline").mockResolvedValueOnce("u");
    const urls = new FileUrls(loader);
    await expect(urls.load("a", true)).rejects.toBe("offline");
    expect(urls.peek("a", true)).toBeUndefined();
    expect(await urls.load("a", true)).toBe("u");
  });
});

describe("Composer files", () => {
  const handlers = () => ({
    onSend: vi.fn(),
    onSaveEdit: vi.fn(),
    lastEditable: vi.fn(() => null),
    onTyping: vi.fn(),
    onAttach: vi.fn(),
    onPasteImages: vi.fn(),
    onPasteClipboard: vi.fn(),
    mentionChoices: vi.fn(() => []),
  });

  it("has a labelled attach button", () => {
    const h = handlers();
    const c = new Composer(h);
    const btn = c.el.querySelector<HTMLButtonElement>('button[aria-label="Attach files"]');
    expect(btn).not.toBeNull();
    btn?.click();
    expect(h.onAttach).toHaveBeenCalledOnce();
    c.setEnabled(false);
    expect(btn?.disabled).toBe(true);
  });

  it("gives its text as a caption and empties itself", () => {
    const c = new Composer(handlers());
    c.setText("  a caption \n\n");
    expect(c.takeCaption()).toBe("  a caption");
    expect(c.text).toBe("");
  });

  it("sends pasted images, leaves pasted text alone, and asks for the clipboard's image when a paste has neither", () => {
    const h = handlers();
    const c = new Composer(h);
    const area = c.el.querySelector("textarea") as HTMLTextAreaElement;
    const image = new File([new Uint8Array([137, 80, 78, 71])], "image.png", { type: "image/png" });
    const paste = (files: File[], text = "") => {
      const e = new Event("paste", { bubbles: true, cancelable: true }) as ClipboardEvent;
      const items = files.map((f) => ({ kind: "file", type: f.type, getAsFile: () => f }));
      const getData = (type: string) => (type === "text/plain" ? text : "");
      Object.defineProperty(e, "clipboardData", { value: { items, files, getData } });
      area.dispatchEvent(e);
      return e;
    };
    const withImage = paste([image]);
    expect(withImage.defaultPrevented).toBe(true);
    expect(h.onPasteImages).toHaveBeenCalledWith([image]);
    const text = paste([], "some text");
    expect(text.defaultPrevented).toBe(false);
    expect(h.onPasteImages).toHaveBeenCalledOnce();
    expect(h.onPasteClipboard).not.toHaveBeenCalled();
    const neither = paste([]);
    expect(neither.defaultPrevented).toBe(true);
    expect(h.onPasteClipboard).toHaveBeenCalledOnce();
    expect(h.onPasteImages).toHaveBeenCalledOnce();
  });

  it("shows the caption a paste would take without taking it", () => {
    const c = new Composer(handlers());
    c.setText("look \n");
    expect(c.peekCaption()).toBe("look");
    expect(c.text).toBe("look \n");
  });
});

describe("Composer replies", () => {
  it("shows whom it answers, sends the reply with the text, and can be cancelled", async () => {
    const { msg } = await import("../logic/fixtures");
    const h = {
      onSend: vi.fn(),
      onSaveEdit: vi.fn(),
      lastEditable: vi.fn(() => null),
      onTyping: vi.fn(),
      onAttach: vi.fn(),
      onPasteImages: vi.fn(),
      onPasteClipboard: vi.fn(),
      mentionChoices: vi.fn(() => []),
    };
    const c = new Composer(h);
    const original = msg({ localId: 4, content: "lunch?" });
    c.startReply(original, "Alice");
    const bar = c.el.querySelector<HTMLElement>(".reply-bar");
    expect(bar?.hidden).toBe(false);
    expect(bar?.textContent).toContain("Replying to Alice: lunch?");
    const box = c.el.querySelector<HTMLTextAreaElement>("textarea") as HTMLTextAreaElement;
    box.value = "yes";
    c.el.querySelector<HTMLButtonElement>('button[aria-label="Send message"]')?.click();
    expect(h.onSend).toHaveBeenCalledWith("yes", original);
    expect(bar?.hidden).toBe(true);
    c.startReply(original, "Alice");
    c.el.querySelector<HTMLButtonElement>('button[aria-label="Cancel reply"]')?.click();
    box.value = "plain";
    c.el.querySelector<HTMLButtonElement>('button[aria-label="Send message"]')?.click();
    expect(h.onSend).toHaveBeenLastCalledWith("plain", null);
  });
});

describe("Composer mentions", () => {
  const choices = [
    { word: "bob", label: "Bob", userId: "u-bob" },
    { word: "bella", label: "Bella", userId: "u-bella" },
  ];
  const setup = () => {
    const h = {
      onSend: vi.fn(),
      onSaveEdit: vi.fn(),
      lastEditable: vi.fn(() => null),
      onTyping: vi.fn(),
      onAttach: vi.fn(),
      onPasteImages: vi.fn(),
      onPasteClipboard: vi.fn(),
      mentionChoices: vi.fn((prefix: string) => choices.filter((c) => c.word.startsWith(prefix))),
    };
    const c = new Composer(h);
    document.body.appendChild(c.el);
    const box = c.el.querySelector<HTMLTextAreaElement>("textarea") as HTMLTextAreaElement;
    const type = (text: string) => {
      box.value = text;
      box.setSelectionRange(text.length, text.length);
      box.dispatchEvent(new Event("input"));
    };
    const key = (k: string) => box.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    const list = c.el.querySelector<HTMLElement>("#mention-list") as HTMLElement;
    return { h, c, box, type, key, list };
  };

  it("offers members after @, moves with the arrows and completes with Enter without sending", () => {
    const { h, box, type, key, list } = setup();
    type("hi @b");
    expect(list.hidden).toBe(false);
    expect(h.mentionChoices).toHaveBeenLastCalledWith("b");
    expect([...list.querySelectorAll('[role="option"]')].map((o) => o.textContent)).toEqual(["@bobBob", "@bellaBella"]);
    expect(box.getAttribute("aria-activedescendant")).toBe("mention-0");
    key("ArrowDown");
    expect(box.getAttribute("aria-activedescendant")).toBe("mention-1");
    key("Enter");
    expect(box.value).toBe("hi @bella ");
    expect(list.hidden).toBe(true);
    expect(h.onSend).not.toHaveBeenCalled();
    // With the list closed, Enter sends as always.
    key("Enter");
    expect(h.onSend).toHaveBeenCalledWith("hi @bella", null);
  });

  it("closes on Escape and when nothing matches", () => {
    const { type, key, list, box } = setup();
    type("@b");
    expect(list.hidden).toBe(false);
    key("Escape");
    expect(list.hidden).toBe(true);
    type("@zz");
    expect(list.hidden).toBe(true);
    // A textbox takes no aria-expanded (axe-core); with the list closed, nothing is active in it.
    expect(box.hasAttribute("aria-expanded")).toBe(false);
    expect(box.hasAttribute("aria-activedescendant")).toBe(false);
  });
});

