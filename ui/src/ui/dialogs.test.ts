// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { room } from "../logic/fixtures";
import type { Api } from "../tauri";
import type { User } from "../types";
import { confirmDialog, newChatDialog } from "./dialogs";

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};
const user = (userId: string, displayName: string): User => ({ userId, userName: userId, displayName }) as User;
const key = (el: Element, k: string) => el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

afterEach(() => {
  for (const d of document.querySelectorAll("dialog")) d.remove();
  vi.useRealTimers();
});

describe("confirmDialog", () => {
  it("focuses Cancel, not the destructive button, so Enter does no harm", async () => {
    const answer = confirmDialog("Delete message?", "It is deleted for everyone.", "Delete");
    await settle();
    const focused = document.activeElement as HTMLElement | null;
    expect(focused?.textContent).toBe("Cancel");
    expect(document.querySelector("button.danger")?.hasAttribute("autofocus")).toBe(false);
    focused?.click();
    expect(await answer).toBe(false);
  });
});

describe("newChatDialog", () => {
  const api = () => ({
    searchUsers: vi.fn(async () => [user("me", "Me"), user("bob", "Bob"), user("bea", "Bea")]),
    createDirect: vi.fn(async (id: string) => room({ roomId: `d-${id}` })),
  });

  /** Opens "New chat" and types `text` in its search (not yet searched). */
  const typeInNewChat = async (text: string) => {
    const a = api();
    const opened = newChatDialog(a as unknown as Api, "me");
    await settle();
    const input = document.querySelector<HTMLInputElement>("dialog input[type=search]") as HTMLInputElement;
    input.value = text;
    input.dispatchEvent(new Event("input"));
    return { a, opened, input };
  };

  it("Enter opens the chat with the highlighted person; the arrows move the highlight", async () => {
    const { a, opened, input } = await typeInNewChat("b");
    await new Promise((r) => setTimeout(r, 300));
    await settle();
    const picks = [...document.querySelectorAll<HTMLElement>("dialog .user-results li")];
    expect(picks).toHaveLength(2);
    expect(picks[0]?.classList.contains("active")).toBe(true);
    key(input, "ArrowDown");
    expect(picks[1]?.classList.contains("active")).toBe(true);
    expect(input.getAttribute("aria-activedescendant")).toBe(picks[1]?.querySelector("button")?.id);
    key(input, "ArrowDown");
    expect(picks[0]?.classList.contains("active")).toBe(true);
    key(input, "ArrowUp");
    expect(picks[1]?.classList.contains("active")).toBe(true);
    key(input, "ArrowUp");
    expect(picks[0]?.classList.contains("active")).toBe(true);
    key(input, "Enter");
    expect((await opened)?.roomId).toBe("d-bob");
    expect(a.createDirect).toHaveBeenCalledWith("bob");
  });

  it("Enter typed before the search answered picks its first result", async () => {
    const { a, opened, input } = await typeInNewChat("b");
    key(input, "Enter");
    expect((await opened)?.roomId).toBe("d-bob");
    expect(a.searchUsers).toHaveBeenCalledTimes(1);
  });
});
