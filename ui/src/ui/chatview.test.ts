// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { ChatView } from "./chatview";

const handlers = () => ({
  onNeedOlder: vi.fn(),
  onAtBottom: vi.fn(),
  onMenu: vi.fn(),
  images: { peek: vi.fn(() => undefined), load: vi.fn(async () => "") },
  onOpenImage: vi.fn(),
  onSaveFile: vi.fn(),
  onSend: vi.fn(),
  onSaveEdit: vi.fn(),
  lastEditable: vi.fn(() => null),
  onTyping: vi.fn(),
  onAttach: vi.fn(),
  onPasteImages: vi.fn(),
  onPasteClipboard: vi.fn(),
  mentionChoices: vi.fn(() => []),
  onShowPinned: vi.fn(),
  onNotifyMenu: vi.fn(),
  onDetails: vi.fn(),
  onBack: vi.fn(),
  onLeaveContext: vi.fn(),
});

describe("ChatView pinned bar", () => {
  it("is hidden without pins, shows the newest, and each click shows one and moves to the next older", () => {
    const h = handlers();
    const v = new ChatView(h);
    document.body.appendChild(v.el);
    const bar = v.el.querySelector<HTMLElement>(".pinned-bar") as HTMLElement;
    expect(bar.hidden).toBe(true);
    v.setPins([
      { messageId: "m3", text: "newest pin" },
      { messageId: "m1", text: null },
    ]);
    expect(bar.hidden).toBe(false);
    const current = bar.querySelector<HTMLButtonElement>(".pin-current") as HTMLButtonElement;
    expect(current.textContent).toBe("📌 Pinned 1 of 2 newest pin");
    current.click();
    expect(h.onShowPinned).toHaveBeenLastCalledWith("m3");
    expect(current.getAttribute("aria-label")).toBe("Pinned 2 of 2: A message from before this device's history. Show it");
    current.click();
    expect(h.onShowPinned).toHaveBeenLastCalledWith("m1");
    expect(bar.querySelector(".pin-all")?.textContent).toBe("All 2");
    v.setPins([]);
    expect(bar.hidden).toBe(true);
  });

  it("lists every pin in a menu", () => {
    const h = handlers();
    const v = new ChatView(h);
    document.body.appendChild(v.el);
    v.setPins([
      { messageId: "a", text: "first" },
      { messageId: "b", text: "second" },
    ]);
    v.el.querySelector<HTMLButtonElement>(".pin-all")?.click();
    const items = [...document.querySelectorAll<HTMLButtonElement>('[role="menu"] [role="menuitem"]')];
    expect(items.map((i) => i.textContent)).toEqual(["first", "second"]);
    items[1]?.click();
    expect(h.onShowPinned).toHaveBeenCalledWith("b");
  });
});

describe("ChatView Escape (issue #21)", () => {
  const narrow = (matches: boolean) =>
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: matches && q.includes("max-width"), media: q, addEventListener() {}, removeEventListener() {} }));
  const esc = (el: Element) => {
    const e = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    el.dispatchEvent(e);
    return e;
  };

  it("goes back to the chat list in the one-pane layout, and only there", () => {
    const h = handlers();
    const v = new ChatView(h);
    document.body.appendChild(v.el);
    v.setOpen(true);
    const box = v.el.querySelector("textarea") as HTMLTextAreaElement;
    narrow(false);
    esc(box);
    expect(h.onBack).not.toHaveBeenCalled();
    narrow(true);
    esc(box);
    expect(h.onBack).toHaveBeenCalledTimes(1);
    vi.unstubAllGlobals();
    v.el.remove();
  });

  it("cancels a reply or an edit first, without leaving the room", () => {
    const h = handlers();
    const v = new ChatView(h);
    document.body.appendChild(v.el);
    v.setOpen(true);
    narrow(true);
    const box = v.el.querySelector("textarea") as HTMLTextAreaElement;
    const m = { localId: 1, messageId: "m1", senderId: "bob", content: "hi", type: "text" } as never;
    v.composer.startReply(m, "Bob");
    expect((v.el.querySelector(".reply-bar") as HTMLElement).hidden).toBe(false);
    expect(esc(box).defaultPrevented).toBe(true);
    expect((v.el.querySelector(".reply-bar") as HTMLElement).hidden).toBe(true);
    expect(h.onBack).not.toHaveBeenCalled();
    esc(box);
    expect(h.onBack).toHaveBeenCalledTimes(1);
    vi.unstubAllGlobals();
    v.el.remove();
  });
});
