// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { sidebar, setSearchScope } from "./sidebar";

const actions = () => ({
  onNewChat: vi.fn(),
  onNewGroup: vi.fn(),
  onJoinGroup: vi.fn(),
  onSettings: vi.fn(),
  onDefaultNotifyMenu: vi.fn(),
  onFilter: vi.fn(),
  onSearch: vi.fn(),
  onClearScope: vi.fn(),
});
const parts = () => ({ el: document.createElement("ul"), emptyNotice: document.createElement("p") }) as never;

describe("the side pane's search scope (Ctrl+F in a chat, issue #20)", () => {
  it("shows which chat a search is limited to, and goes back to everywhere", () => {
    const a = actions();
    const el = sidebar("alice", "https://chat.example", parts(), { el: document.createElement("div") } as never, a);
    document.body.replaceChildren(el);
    const chip = el.querySelector<HTMLButtonElement>(".search-scope") as HTMLButtonElement;
    const box = el.querySelector<HTMLInputElement>(".room-filter") as HTMLInputElement;
    expect(chip.hidden).toBe(true);
    expect(box.placeholder).toBe("Search chats and messages");
    setSearchScope(el, "Design team");
    expect(chip.hidden).toBe(false);
    expect(chip.textContent).toContain("In Design team");
    expect(chip.getAttribute("aria-label")).toBe("Searching in Design team. Search everywhere instead");
    expect(box.placeholder).toBe("Search this chat");
    chip.click();
    expect(a.onClearScope).toHaveBeenCalledOnce();
    // Backspace in an empty box leaves the chat too.
    box.value = "";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Backspace", bubbles: true }));
    expect(a.onClearScope).toHaveBeenCalledTimes(2);
    box.value = "x";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Backspace", bubbles: true }));
    expect(a.onClearScope).toHaveBeenCalledTimes(2);
    setSearchScope(el, null);
    expect(chip.hidden).toBe(true);
    expect(box.placeholder).toBe("Search chats and messages");
  });
});
