// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { member, room } from "../logic/fixtures";
import type { Api } from "../tauri";
import type { User } from "../types";
import { quickSwitcher, shortcutsDialog } from "./switcher";

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};
const key = (el: Element, k: string) => el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
const type = (input: HTMLInputElement, text: string) => {
  input.value = text;
  input.dispatchEvent(new Event("input"));
};

afterEach(() => {
  for (const d of document.querySelectorAll("dialog")) d.remove();
});

const ROOMS = [
  room({ roomId: "g1", type: "group", name: "Design team" }),
  room({ roomId: "d1", type: "direct", members: [member("me"), member("bob", { displayName: "Bob" })] }),
];
const api = () => ({
  searchUsers: vi.fn(async (): Promise<User[]> => [
    { userId: "bob", userName: "bob", displayName: "Bob" } as User,
    { userId: "bea", userName: "bea", displayName: "Bea" } as User,
  ]),
  createDirect: vi.fn(async (id: string) => room({ roomId: `d-${id}` })),
});

describe("quickSwitcher", () => {
  it("opens a chat by part of its name with Enter", async () => {
    const a = api();
    const opened = quickSwitcher(a as unknown as Pick<Api, "searchUsers" | "createDirect">, ROOMS, "me");
    await settle();
    const input = document.querySelector<HTMLInputElement>("dialog input[role=combobox]") as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    type(input, "team");
    const options = [...document.querySelectorAll("dialog [role=option]")];
    expect(options.map((o) => o.querySelector(".switcher-label")?.textContent)).toEqual(["Design team"]);
    expect(options[0]?.getAttribute("aria-selected")).toBe("true");
    key(input, "Enter");
    expect(await opened).toBe("g1");
  });

  it("offers people without a chat after a pause, and Enter on one makes the chat", async () => {
    const a = api();
    const opened = quickSwitcher(a as unknown as Pick<Api, "searchUsers" | "createDirect">, ROOMS, "me");
    await settle();
    const input = document.querySelector<HTMLInputElement>("dialog input[role=combobox]") as HTMLInputElement;
    type(input, "b");
    await new Promise((r) => setTimeout(r, 300));
    await settle();
    const labels = () => [...document.querySelectorAll("dialog [role=option] .switcher-label")].map((o) => o.textContent);
    // Bob already has a chat: listed once, as the chat; Bea is new.
    expect(labels()).toEqual(["Bob", "Bea"]);
    key(input, "ArrowDown");
    expect(input.getAttribute("aria-activedescendant")).toBe(document.querySelectorAll("dialog [role=option]")[1]?.id);
    key(input, "Enter");
    expect(await opened).toBe("d-bea");
    expect(a.createDirect).toHaveBeenCalledWith("bea");
  });

  it("says when nothing matches, and Escape closes it with nothing opened", async () => {
    const opened = quickSwitcher(api() as unknown as Pick<Api, "searchUsers" | "createDirect">, ROOMS, "me");
    await settle();
    const input = document.querySelector<HTMLInputElement>("dialog input[role=combobox]") as HTMLInputElement;
    type(input, "zzz");
    expect(document.querySelector("dialog .switcher-status")?.textContent).toBe("No chats or people match.");
    (document.querySelector("dialog") as HTMLDialogElement).close();
    expect(await opened).toBeNull();
  });
});

describe("shortcutsDialog", () => {
  it("lists the shortcuts with the platform's command key", async () => {
    const done = shortcutsDialog(true);
    await settle();
    const text = document.querySelector("dialog")?.textContent ?? "";
    expect(text).toContain("⌘K");
    expect(text).toContain("Go to a chat or a person");
    (document.querySelector("dialog") as HTMLDialogElement).close();
    await done;
  });
});
