import { describe, expect, it } from "vitest";
import { canManage, deviceSummary, inviteLink, inviteSummary, memberActions, parseInvite, sameServer, sortMembers } from "./community";
import { member, room } from "./fixtures";

const CODE = "3q2-7wZ0yV1mXkQ8c0fJ2u9hTgAaBbCc";

describe("invite links", () => {
  it("a link made by the app reads back as its code and server", () => {
    const link = inviteLink("https://chat.example.com:8443", CODE);
    expect(link.startsWith("leetchat://join?")).toBe(true);
    expect(parseInvite(link)).toEqual({ code: CODE, server: "https://chat.example.com:8443" });
  });

  it("a bare code, a web link or a pasted line with spaces all give the code", () => {
    for (const pasted of [CODE, `  ${CODE}\n`, `https://chat.example.com/join/${CODE}`, `https://chat.example.com/join/${CODE}/`, `https://x.example/j?code=${CODE}#top`]) {
      expect(parseInvite(pasted), pasted).toEqual({ code: CODE, server: null });
    }
  });

  it("what holds no code is refused", () => {
    for (const pasted of ["", "   ", "not a code!", "leetchat://join?server=x&code=bad%20code", "x".repeat(129)]) {
      expect(parseInvite(pasted), pasted).toBeNull();
    }
  });

  it("servers compare without case or a trailing slash", () => {
    expect(sameServer("https://Chat.Example.com/", "https://chat.example.com")).toBe(true);
    expect(sameServer("https://chat.example.com", "https://other.example.com")).toBe(false);
  });

  it("an invite's uses and expiry read as words", () => {
    expect(inviteSummary({ uses: 1 })).toBe("1 use · never expires");
    expect(inviteSummary({ uses: 2, maxUses: 10 })).toBe("2 of 10 uses · never expires");
    expect(inviteSummary({ uses: 0, expiresAt: "2030-01-02T03:04:05Z" }, "en-GB")).toMatch(/^0 uses · expires 2 Jan/);
  });
});

describe("who may do what in a group", () => {
  const g = room({
    type: "group",
    members: [member("owner", { role: "owner" }), member("admin", { role: "admin" }), member("admin2", { role: "admin" }), member("plain", { role: "member" })],
  });

  it("the owner and admins manage the group; members and outsiders do not", () => {
    expect(canManage(g, "owner")).toBe(true);
    expect(canManage(g, "admin")).toBe(true);
    expect(canManage(g, "plain")).toBe(false);
    expect(canManage(g, "stranger")).toBe(false);
    expect(canManage({ ...g, type: "direct" }, "owner")).toBe(false);
  });

  it("the owner changes roles and removes anyone but themself", () => {
    const m = (id: string) => g.members.find((x) => x.userId === id)!;
    expect(memberActions(g, "owner", m("admin"))).toEqual({ changeRole: true, remove: true });
    expect(memberActions(g, "owner", m("plain"))).toEqual({ changeRole: true, remove: true });
    expect(memberActions(g, "owner", m("owner"))).toEqual({ changeRole: false, remove: false });
  });

  it("an admin removes plain members only and changes no roles; a member does nothing", () => {
    const m = (id: string) => g.members.find((x) => x.userId === id)!;
    expect(memberActions(g, "admin", m("plain"))).toEqual({ changeRole: false, remove: true });
    expect(memberActions(g, "admin", m("admin2"))).toEqual({ changeRole: false, remove: false });
    expect(memberActions(g, "admin", m("owner"))).toEqual({ changeRole: false, remove: false });
    expect(memberActions(g, "plain", m("admin"))).toEqual({ changeRole: false, remove: false });
  });

  it("members are listed owner first, then admins, then by name", () => {
    const list = sortMembers([member("z", { displayName: "Zed" }), member("a", { displayName: "amy", role: "admin" }), member("o", { displayName: "Otto", role: "owner" }), member("b", { displayName: "Bea" })]);
    expect(list.map((m) => m.userId)).toEqual(["o", "a", "b", "z"]);
  });
});

describe("devices", () => {
  const d = { deviceId: "d", name: "laptop", createdAt: "2026-01-02T10:00:00Z", online: false, current: false };
  it("reads as this device, online, last active or signed in", () => {
    expect(deviceSummary({ ...d, current: true, online: true })).toBe("This device");
    expect(deviceSummary({ ...d, online: true })).toBe("Online now");
    expect(deviceSummary({ ...d, lastActiveAt: "2026-03-04T10:00:00Z" }, "en-GB")).toBe("Last active 4 Mar 2026");
    expect(deviceSummary(d, "en-GB")).toBe("Signed in 2 Jan 2026");
  });
});
