// Running a group and an account from the app: invite links (made, pasted,
// shown), who may do what to whom in a group (the server's rules, so the
// app only offers what will work), and how devices and bans read.

import type { DeviceInfo, MemberView, RoomView } from "../types";

const JOIN_PREFIX = "leetchat://join";

/**
 * The link the app hands out for an invite: `leetchat://join?server=…&code=…`.
 * It names the server, so whoever pastes it learns where the group lives;
 * the terminal client (`leetchat join`) and the app both take it, or the
 * code alone.
 */
export function inviteLink(server: string, code: string): string {
  return `${JOIN_PREFIX}?server=${encodeURIComponent(server)}&code=${encodeURIComponent(code)}`;
}

/** What an invite someone pasted names: its code, and its server when the link says. */
export interface PastedInvite {
  code: string;
  server: string | null;
}

/** A code: what the server makes (base64url), as the client core accepts it. */
const CODE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The invite in what someone pasted: a bare code, a `leetchat://join` link,
 * or any link whose `code=` parameter or last path segment is the code.
 * Null when it holds none.
 */
export function parseInvite(pasted: string): PastedInvite | null {
  const t = pasted.trim();
  if (t === "") return null;
  const q = t.indexOf("?");
  let code: string | null = null;
  let server: string | null = null;
  if (q >= 0) {
    const params = new URLSearchParams(t.slice(q + 1).split("#")[0] ?? "");
    code = params.get("code");
    server = params.get("server");
  }
  if (code === null) {
    const path = (t.split(/[?#]/)[0] ?? "").replace(/\/+$/, "");
    code = path.slice(path.lastIndexOf("/") + 1);
  }
  if (!CODE.test(code)) return null;
  return { code, server: server && server.trim() !== "" ? server.trim() : null };
}

/** Whether two server addresses are the same server (case and a trailing slash aside). */
export function sameServer(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\/+$/, "").toLowerCase();
  return norm(a) === norm(b);
}

/** The user's role in a room (null: not a member). */
export function myRole(room: RoomView, myUserId: string): MemberView["role"] | null {
  return room.members.find((m) => m.userId === myUserId)?.role ?? null;
}

/** Whether the user runs the group (owner or admin): renames it, makes links, bans. */
export function canManage(room: RoomView, myUserId: string): boolean {
  const role = myRole(room, myUserId);
  return room.type === "group" && (role === "owner" || role === "admin");
}

/** What the user may do to one member of a group, as the server allows it. */
export interface MemberActions {
  /** Make admin / make a plain member / hand the group over (the owner only). */
  changeRole: boolean;
  /** Remove from the group, or ban (the owner: anyone else; an admin: plain members). */
  remove: boolean;
}

/** See [`MemberActions`]. Nothing for oneself (leaving is its own button) or in a direct room. */
export function memberActions(room: RoomView, myUserId: string, target: MemberView): MemberActions {
  const none = { changeRole: false, remove: false };
  if (room.type !== "group" || target.userId === myUserId) return none;
  const role = myRole(room, myUserId);
  if (role === "owner") return { changeRole: true, remove: true };
  if (role === "admin") return { changeRole: false, remove: target.role === "member" };
  return none;
}

/** A role as a person reads it. */
export function roleLabel(role: string): string {
  return role === "owner" ? "Owner" : role === "admin" ? "Admin" : "Member";
}

/** Members in the order a group's settings lists them: owner, admins, then members, each by name. */
export function sortMembers(members: readonly MemberView[]): MemberView[] {
  const rank = (r: string) => (r === "owner" ? 0 : r === "admin" ? 1 : 2);
  const name = (m: MemberView) => (m.displayName || m.userName || m.userId).toLowerCase();
  return [...members].sort((a, b) => rank(a.role) - rank(b.role) || name(a).localeCompare(name(b)));
}

/** How long invite links last, as the link form offers it (seconds; null: until revoked). */
export const INVITE_EXPIRY: { label: string; seconds: number | null }[] = [
  { label: "Never expires", seconds: null },
  { label: "Expires in 1 hour", seconds: 3600 },
  { label: "Expires in 1 day", seconds: 86_400 },
  { label: "Expires in 7 days", seconds: 7 * 86_400 },
];

/** An invite's uses and expiry in words ("2 of 10 uses · expires 12 Dec"). */
export function inviteSummary(inv: { uses: number; maxUses?: number; expiresAt?: string }, locale?: string): string {
  const uses = inv.maxUses !== undefined ? `${inv.uses} of ${inv.maxUses} uses` : `${inv.uses} ${inv.uses === 1 ? "use" : "uses"}`;
  if (!inv.expiresAt) return `${uses} · never expires`;
  const when = new Date(inv.expiresAt).toLocaleString(locale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  return `${uses} · expires ${when}`;
}

/** A signed-in device in a line ("This device", or when it was last active). */
export function deviceSummary(d: DeviceInfo, locale?: string): string {
  const date = (iso: string) => new Date(iso).toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
  if (d.current) return "This device";
  if (d.online) return "Online now";
  return d.lastActiveAt ? `Last active ${date(d.lastActiveAt)}` : `Signed in ${date(d.createdAt)}`;
}
