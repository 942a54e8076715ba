// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Api } from "../tauri";
import type { Block, DeviceInfo, User } from "../types";
import { settingsDialog, type SettingsContext } from "./settings";

const ME: User = { userId: "u-me", userName: "alice", displayName: "Alice" };
const BOB: User = { userId: "u-bob", userName: "bob", displayName: "Bob Stone" };
const DEVICES: DeviceInfo[] = [
  { deviceId: "d1", name: "laptop", createdAt: "2026-01-01T00:00:00Z", online: true, current: true },
  { deviceId: "d2", name: "phone", createdAt: "2026-01-01T00:00:00Z", online: false, current: false },
];

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};

function fakeApi(over: Record<string, unknown> = {}) {
  let blocks: Block[] = [{ userId: BOB.userId, blockedAt: "2026-01-01T00:00:00Z" }];
  let devices = [...DEVICES];
  const api = {
    profile: vi.fn(async () => ME),
    about: vi.fn(async () => ({ version: "1.2.3", license: "MIT" })),
    updateProfile: vi.fn(async (name: string | null) => ({ ...ME, displayName: name ?? ME.displayName })),
    knownUsers: vi.fn(async (ids: string[]) => [ME, BOB].filter((u) => ids.includes(u.userId))),
    blocks: vi.fn(async () => blocks),
    block: vi.fn(async (id: string, on: boolean) => {
      blocks = on ? [{ userId: id, blockedAt: "x" }, ...blocks] : blocks.filter((b) => b.userId !== id);
      return blocks;
    }),
    devices: vi.fn(async () => devices),
    signOutDevice: vi.fn(async (id: string) => {
      devices = devices.filter((d) => d.deviceId !== id);
    }),
    exportData: vi.fn(async () => "/home/alice/Downloads/leetchat-alice.json"),
    deleteAccount: vi.fn(async () => undefined),
    setNotifyDefault: vi.fn(async () => "all"),
    pickFiles: vi.fn(async () => [] as string[]),
    ...over,
  };
  return api;
}

function open(api: ReturnType<typeof fakeApi>): SettingsContext & { onDeleted: ReturnType<typeof vi.fn>; onSignOut: ReturnType<typeof vi.fn>; done: Promise<void> } {
  const ctx = {
    api: api as unknown as Api,
    server: "https://chat.example.com",
    images: { peek: () => undefined, load: () => new Promise<string>(() => undefined) },
    notifyDefault: "mentions" as const,
    onDeleted: vi.fn(),
    onSignOut: vi.fn(),
  };
  const done = settingsDialog(ctx);
  return { ...ctx, done };
}

const dialogs = () => [...document.querySelectorAll<HTMLDialogElement>("dialog")];
const top = () => dialogs()[dialogs().length - 1] as HTMLDialogElement;
const button = (root: ParentNode, text: string) =>
  [...root.querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === text || b.getAttribute("aria-label") === text) as HTMLButtonElement;

describe("the settings screen", () => {
  afterEach(() => document.body.replaceChildren());

  it("shows the profile, the default level, the blocked people and the devices", async () => {
    const api = fakeApi();
    open(api);
    await settle();
    const d = top();
    expect((d.querySelector('input[name="displayName"]') as HTMLInputElement).value).toBe("Alice");
    expect(d.textContent).toContain("@alice on https://chat.example.com");
    expect((d.querySelector('input[value="mentions"]') as HTMLInputElement).checked).toBe(true);
    expect(d.querySelector('[aria-label="Blocked people"]')?.textContent).toContain("Bob Stone");
    const devices = d.querySelector('[aria-label="Signed-in devices"]') as HTMLElement;
    expect(devices.textContent).toContain("laptop · This device");
    // Only the other device can be signed out from here.
    expect([...devices.querySelectorAll("button")].map((b) => b.getAttribute("aria-label"))).toEqual(["Sign out phone"]);
  });

  it("switches to the dark theme and a larger text, and remembers them (issue #20)", async () => {
    open(fakeApi());
    await settle();
    const d = top();
    const theme = d.querySelector('[role="radiogroup"][aria-label="Theme"]') as HTMLElement;
    expect((theme.querySelector('input[value="system"]') as HTMLInputElement).checked).toBe(true);
    const dark = theme.querySelector('input[value="dark"]') as HTMLInputElement;
    dark.checked = true;
    dark.dispatchEvent(new Event("change"));
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("leetchat.theme")).toBe("dark");
    const large = d.querySelector('[aria-label="Text size"] input[value="large"]') as HTMLInputElement;
    large.checked = true;
    large.dispatchEvent(new Event("change"));
    expect(document.documentElement.dataset.textSize).toBe("large");
    const compact = d.querySelector('[aria-label="Layout"] input[value="compact"]') as HTMLInputElement;
    compact.checked = true;
    compact.dispatchEvent(new Event("change"));
    expect(document.documentElement.dataset.density).toBe("compact");
    localStorage.clear();
  });

  it("says which version this is, under which license, and which server it talks to (issue #20)", async () => {
    open(fakeApi());
    await settle();
    const about = [...top().querySelectorAll("section")].find((sec) => sec.querySelector("h3")?.textContent === "About") as HTMLElement;
    expect(about.textContent).toContain("LeetChat 1.2.3 · MIT license");
    expect(about.textContent).toContain("Server: https://chat.example.com");
  });

  it("saves a new display name, and only when it changed", async () => {
    const api = fakeApi();
    open(api);
    await settle();
    const d = top();
    const name = d.querySelector('input[name="displayName"]') as HTMLInputElement;
    const save = button(d, "Save name");
    expect(save.disabled).toBe(true);
    name.value = "  Alice Liddell ";
    name.dispatchEvent(new Event("input"));
    expect(save.disabled).toBe(false);
    (name.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.updateProfile).toHaveBeenCalledWith("Alice Liddell", null, false);
  });

  it("keeps a name typed before the profile was read", async () => {
    let answer: (u: User) => void = () => undefined;
    const api = fakeApi({ profile: vi.fn(() => new Promise<User>((r) => (answer = r))) });
    open(api);
    const d = top();
    const name = d.querySelector('input[name="displayName"]') as HTMLInputElement;
    name.value = "Typed early";
    name.dispatchEvent(new Event("input"));
    answer(ME);
    await settle();
    expect(name.value).toBe("Typed early");
    expect(button(d, "Save name").disabled).toBe(false);
  });

  it("unblocks someone, and signs another device out after asking", async () => {
    const api = fakeApi();
    open(api);
    await settle();
    button(top(), "Unblock Bob Stone").click();
    await settle();
    expect(api.block).toHaveBeenCalledWith("u-bob", false);
    expect(top().querySelector('[aria-label="Blocked people"]')?.children.length).toBe(0);
    expect(top().textContent).toContain("You have not blocked anyone");

    button(top(), "Sign out phone").click();
    await settle();
    expect(top().textContent).toContain("Sign out “phone”?");
    button(top(), "Sign out").click();
    await settle();
    expect(api.signOutDevice).toHaveBeenCalledWith("d2");
    expect(top().querySelector('[aria-label="Signed-in devices"]')?.textContent).not.toContain("phone");
  });

  it("deletes the account only with the password; a refused one keeps the dialog, the typing and the user signed in", async () => {
    const api = fakeApi({ deleteAccount: vi.fn(async () => Promise.reject("server refused: the password is wrong; the account was not deleted (forbidden)")) });
    const ctx = open(api);
    await settle();
    button(top(), "Delete account…").click();
    await settle();
    const ask = top();
    const yes = button(ask, "Delete my account");
    expect(yes.disabled).toBe(true);
    const pw = ask.querySelector('input[type="password"]') as HTMLInputElement;
    pw.value = "wrong";
    pw.dispatchEvent(new Event("input"));
    (pw.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.deleteAccount).toHaveBeenCalledWith("wrong");
    expect(ctx.onDeleted).not.toHaveBeenCalled();
    expect(top()).toBe(ask);
    expect(ask.querySelector('[role="alert"]')?.textContent).toContain("The password is wrong; the account was not deleted.");
    expect(pw.value).toBe("wrong");
    expect(yes.disabled).toBe(false);

    api.deleteAccount.mockImplementation(async () => undefined);
    pw.value = "right";
    pw.dispatchEvent(new Event("input"));
    (pw.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.deleteAccount).toHaveBeenLastCalledWith("right");
    await ctx.done;
    expect(ctx.onDeleted).toHaveBeenCalledWith("Your account was deleted.");
  });

  it("ticks the level that holds when a change of the default is refused", async () => {
    const api = fakeApi({ setNotifyDefault: vi.fn(async () => Promise.reject("offline: this needs a connection to the server")) });
    open(api);
    await settle();
    const none = top().querySelector('input[value="none"]') as HTMLInputElement;
    none.checked = true;
    none.dispatchEvent(new Event("change"));
    await settle();
    expect(api.setNotifyDefault).toHaveBeenCalledWith("none");
    expect((top().querySelector('input[value="mentions"]') as HTMLInputElement).checked).toBe(true);
    expect(none.checked).toBe(false);
  });

  it("exports the data and says where it went", async () => {
    const api = fakeApi();
    open(api);
    await settle();
    button(top(), "Export my data").click();
    await settle();
    expect(api.exportData).toHaveBeenCalled();
    expect(document.body.textContent).toContain("saved to /home/alice/Downloads/leetchat-alice.json");
  });
});
