// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { member, room } from "../logic/fixtures";
import type { Api } from "../tauri";
import type { RoomInvite, RoomView } from "../types";
import { joinDialog } from "./dialogs";
import { groupSettingsDialog, profileDialog, type PeopleContext } from "./groupsettings";

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};

const GROUP: RoomView = room({
  roomId: "g1",
  type: "group",
  name: "Team",
  description: "Work chat",
  members: [
    member("owner", { role: "owner", displayName: "Olga" }),
    member("admin", { role: "admin", displayName: "Adam" }),
    member("plain", { role: "member", displayName: "Pat" }),
  ],
});

function fakeApi() {
  let invites: RoomInvite[] = [];
  return {
    invites: vi.fn(async () => invites),
    createInvite: vi.fn(async (roomId: string, maxUses: number | null) => {
      const inv: RoomInvite = { code: "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4", roomId, uses: 0, ...(maxUses ? { maxUses } : {}) };
      invites = [inv, ...invites];
      return inv;
    }),
    revokeInvite: vi.fn(async (code: string) => {
      invites = invites.filter((i) => i.code !== code);
    }),
    bans: vi.fn(async () => [{ userId: "gone", bannedBy: "owner", bannedAt: "2026-01-01T00:00:00Z", reason: "spam" }]),
    ban: vi.fn(async () => undefined),
    knownUsers: vi.fn(async (ids: string[]) => ids.filter((i) => i === "gone").map(() => ({ userId: "gone", userName: "gone", displayName: "Gone Person" }))),
    updateRoom: vi.fn(async (_r: string, name: string | null, description: string | null) => ({ ...GROUP, name: name ?? GROUP.name, description: description ?? GROUP.description })),
    setMemberRole: vi.fn(async () => GROUP),
    removeMember: vi.fn(async () => undefined),
    blocks: vi.fn(async () => []),
    block: vi.fn(async (userId: string) => [{ userId, blockedAt: "x" }]),
    createDirect: vi.fn(async () => room({ roomId: "d1" })),
    joinRoom: vi.fn(async () => GROUP),
  };
}

function ctx(api: ReturnType<typeof fakeApi>, me: string): PeopleContext & { openRoom: ReturnType<typeof vi.fn> } {
  return {
    api: api as unknown as Api,
    myUserId: me,
    server: "https://chat.example.com",
    images: { peek: () => undefined, load: () => new Promise<string>(() => undefined) },
    room: () => GROUP,
    openRoom: vi.fn(),
    watch: () => () => undefined,
  };
}

const dialogs = () => [...document.querySelectorAll<HTMLDialogElement>("dialog")];
const top = () => dialogs()[dialogs().length - 1] as HTMLDialogElement;
const button = (root: ParentNode, text: string) =>
  [...root.querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === text || b.getAttribute("aria-label") === text) as HTMLButtonElement;
const menuItems = () => [...document.querySelectorAll<HTMLButtonElement>('[role="menu"] button')].map((b) => b.textContent);
const sectionOf = (d: HTMLElement, title: string) => [...d.querySelectorAll<HTMLElement>(".settings-section")].find((s) => s.querySelector("h3")?.textContent?.startsWith(title)) as HTMLElement;

describe("group settings", () => {
  afterEach(() => document.body.replaceChildren());

  it("a plain member reads the group and its members, and can only leave", async () => {
    const api = fakeApi();
    void groupSettingsDialog(ctx(api, "plain"), "g1");
    await settle();
    const d = top();
    expect((d.querySelector('input[name="groupName"]') as HTMLInputElement).readOnly).toBe(true);
    expect(sectionOf(d, "Invite links").hidden).toBe(true);
    expect(sectionOf(d, "Banned").hidden).toBe(true);
    expect(api.invites).not.toHaveBeenCalled();
    expect(api.bans).not.toHaveBeenCalled();
    expect(d.querySelector(".members")?.textContent).toMatch(/Olga.*Owner.*Adam.*Admin.*Pat \(you\).*Member/);
    button(d, "Actions for Adam").click();
    expect(menuItems()).toEqual(["Profile"]);
  });

  it("the owner renames, makes an invite link to copy and revoke, and bans with a reason", async () => {
    const api = fakeApi();
    void groupSettingsDialog(ctx(api, "owner"), "g1");
    await settle();
    const d = top();
    const name = d.querySelector('input[name="groupName"]') as HTMLInputElement;
    name.value = "Team B";
    name.dispatchEvent(new Event("input"));
    (name.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.updateRoom).toHaveBeenCalledWith("g1", "Team B", null);

    expect(sectionOf(d, "Banned").textContent).toContain("Gone Person");
    expect(sectionOf(d, "Banned").textContent).toContain("spam");

    const uses = d.querySelector('select[aria-label="How many people may use it"]') as HTMLSelectElement;
    uses.value = "5";
    button(d, "Create invite link").click();
    await settle();
    expect(api.createInvite).toHaveBeenCalledWith("g1", 5, null);
    const link = d.querySelector<HTMLInputElement>("input.invite-link");
    expect(link?.value).toBe("leetchat://join?server=https%3A%2F%2Fchat.example.com&code=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4");
    expect(sectionOf(d, "Invite links").textContent).toContain("0 of 5 uses · never expires");
    button(d, "Revoke invite link 1").click();
    await settle();
    button(top(), "Revoke").click();
    await settle();
    expect(api.revokeInvite).toHaveBeenCalledWith("Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4");
    expect(d.querySelector("input.invite-link")).toBeNull();

    button(d, "Actions for Pat").click();
    expect(menuItems()).toEqual(["Profile", "Make admin", "Make owner…", "Remove from group", "Ban…"]);
    [...document.querySelectorAll<HTMLButtonElement>('[role="menu"] button')].find((b) => b.textContent === "Ban…")?.click();
    await settle();
    const reason = top().querySelector("textarea") as HTMLTextAreaElement;
    reason.value = "trolling";
    (reason.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.ban).toHaveBeenCalledWith("g1", "plain", true, "trolling");

    // Lifting a ban reads the list again.
    const before = api.bans.mock.calls.length;
    button(d, "Unban Gone Person").click();
    await settle();
    expect(api.ban).toHaveBeenLastCalledWith("g1", "gone", false, null);
    expect(api.bans.mock.calls.length).toBe(before + 1);
  });

  it("keeps the ban dialog and its reason when the server refuses the ban", async () => {
    const api = fakeApi();
    api.ban.mockRejectedValueOnce("server refused: only the owner can ban admins (forbidden)");
    void groupSettingsDialog(ctx(api, "owner"), "g1");
    await settle();
    button(top(), "Actions for Pat").click();
    [...document.querySelectorAll<HTMLButtonElement>('[role="menu"] button')].find((b) => b.textContent === "Ban…")?.click();
    await settle();
    const ask = top();
    const reason = ask.querySelector("textarea") as HTMLTextAreaElement;
    reason.value = "spam";
    (reason.form as HTMLFormElement).requestSubmit();
    await settle();
    expect(top()).toBe(ask);
    expect(reason.value).toBe("spam");
    expect(ask.querySelector('[role="alert"]')?.textContent).toContain("Only the owner can ban admins.");
  });

  it("an admin removes plain members but not other admins or the owner, and changes no roles", async () => {
    const api = fakeApi();
    void groupSettingsDialog(ctx(api, "admin"), "g1");
    await settle();
    button(top(), "Actions for Pat").click();
    expect(menuItems()).toEqual(["Profile", "Remove from group", "Ban…"]);
    button(top(), "Actions for Olga").click();
    expect(menuItems()).toEqual(["Profile"]);
  });
});

describe("group settings while open", () => {
  afterEach(() => document.body.replaceChildren());

  it("follow the room: a member who joins shows up, and it closes when the user is no longer in the group", async () => {
    const api = fakeApi();
    let now: RoomView | undefined = GROUP;
    let changed = (): void => undefined;
    const c = { ...ctx(api, "owner"), room: () => now, watch: (_id: string, cb: () => void) => ((changed = cb), () => undefined) };
    const done = groupSettingsDialog(c, "g1");
    await settle();
    expect(top().querySelector(".members")?.textContent).not.toContain("Carol");
    now = { ...GROUP, members: [...GROUP.members, member("carol", { displayName: "Carol" })] };
    changed();
    expect(top().querySelector(".members")?.textContent).toContain("Carol");
    expect(top().textContent).toContain("Members (4)");
    // Someone joined (maybe by a link): its uses are read again.
    expect(api.invites).toHaveBeenCalledTimes(2);
    // A name being typed survives the room changing underneath (a receipt, a join).
    const name = top().querySelector('input[name="groupName"]') as HTMLInputElement;
    name.value = "Team (typing)";
    name.dispatchEvent(new Event("input"));
    (top().querySelector('textarea[name="groupDescription"]') as HTMLTextAreaElement).focus();
    now = { ...now, lastSeq: 99 };
    changed();
    expect(name.value).toBe("Team (typing)");
    now = undefined;
    changed();
    await done;
    expect(dialogs()).toEqual([]);
  });
});

describe("a person's profile", () => {
  afterEach(() => document.body.replaceChildren());

  it("blocks after asking, then offers Unblock", async () => {
    const api = fakeApi();
    void profileDialog(ctx(api, "owner"), "plain", GROUP.members[2]);
    await settle();
    button(top(), "Block").click();
    await settle();
    button(top(), "Block").click();
    await settle();
    expect(api.block).toHaveBeenCalledWith("plain", true);
    expect(button(top(), "Unblock")).toBeTruthy();
    expect(top().textContent).toContain("You blocked Pat");
  });
});

describe("joining by a pasted invite", () => {
  afterEach(() => document.body.replaceChildren());

  const paste = async (text: string): Promise<HTMLDialogElement> => {
    const d = top();
    const input = d.querySelector('input[name="invite"]') as HTMLInputElement;
    input.value = text;
    input.dispatchEvent(new Event("input"));
    (input.form as HTMLFormElement).requestSubmit();
    await settle();
    return d;
  };

  it("refuses what is not an invite, and a link to another server, without asking the server", async () => {
    const api = fakeApi();
    void joinDialog(api as unknown as Api, "https://chat.example.com");
    expect((await paste("hello there")).textContent).toContain("That is not an invite link or code");
    expect((await paste("leetchat://join?server=https%3A%2F%2Fother.example&code=abc")).textContent).toContain("for another server (https://other.example)");
    expect(api.joinRoom).not.toHaveBeenCalled();
  });

  it("says plainly when an invite does not work or the user is banned, and joins with a good one", async () => {
    const api = fakeApi();
    api.joinRoom.mockRejectedValueOnce("server refused: no such invite (not_found)").mockRejectedValueOnce("server refused: you are banned from this group (forbidden)");
    const joined = joinDialog(api as unknown as Api, "https://chat.example.com/");
    expect((await paste("Zm9vYmFy")).textContent).toContain("may have expired, been used up or been revoked");
    expect((await paste("Zm9vYmFy")).textContent).toContain("you were banned from it");
    await paste("leetchat://join?server=https%3A%2F%2Fchat.example.com&code=Zm9vYmFy");
    expect(api.joinRoom).toHaveBeenLastCalledWith("Zm9vYmFy");
    expect((await joined)?.roomId).toBe("g1");
  });
});
