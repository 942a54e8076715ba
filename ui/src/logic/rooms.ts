// Rooms as the list and the chat header show them: order, titles, the other
// person of a direct room and their presence, the last-message preview, and
// the small in-place changes that events make (a member's read pointer,
// presence, and the counts the client core reports).

import type { MemberView, MessageView, RoomCounts, RoomView } from "../types";
import { plainText } from "./markdown";
import { presenceLabel } from "./time";

/** The name to show for a member: display name, else login name, else id. */
export function memberName(m: MemberView): string {
  return m.displayName || m.userName || m.userId;
}

/** The other member of a direct room (null for groups, or if not known yet). */
export function directPartner(room: RoomView, myUserId: string): MemberView | null {
  if (room.type !== "direct") return null;
  return room.members.find((m) => m.userId !== myUserId) ?? null;
}

/** The room's title: its name, else (direct) the partner's name, else members. */
export function roomTitle(room: RoomView, myUserId: string): string {
  if (room.name) return room.name;
  const partner = directPartner(room, myUserId);
  if (partner) return memberName(partner);
  const others = room.members.filter((m) => m.userId !== myUserId).map(memberName);
  return others.length ? others.join(", ") : "Untitled room";
}

/** The name of a message's sender as this room knows it. */
export function senderName(room: RoomView | undefined, senderId: string): string {
  const m = room?.members.find((x) => x.userId === senderId);
  return m ? memberName(m) : "Unknown";
}

/**
 * The name of someone typing, as the room shows its members (the display
 * name, like their messages), else the login name the typing event carried.
 */
export function typistName(room: RoomView | undefined, userId: string, userName: string): string {
  const m = room?.members.find((x) => x.userId === userId);
  return m ? memberName(m) : userName || userId;
}

/** One line about a message, as a room list preview or a notification shows it. */
export function messageSummary(msg: MessageView): string {
  if (msg.deletedAt !== null) return "Message deleted";
  const text = plainText(msg.content);
  if (text) return text;
  const [first] = msg.attachments;
  if (first) {
    const more = msg.attachments.length - 1;
    const what = first.mime.startsWith("image/") ? "Photo" : first.name || "File";
    return more > 0 ? `${what} (+${more})` : what;
  }
  return "";
}

/**
 * The preview under a room's name: the last message, prefixed "You: " for
 * the user's own and with the sender's name in groups.
 */
export function roomPreview(room: RoomView, myUserId: string): string {
  const msg = room.lastMessage;
  if (!msg) return room.type === "group" ? room.description || "No messages yet" : "No messages yet";
  const summary = messageSummary(msg);
  if (msg.type === "system") return summary;
  if (msg.senderId === myUserId) return `You: ${summary}`;
  if (room.type === "group") return `${senderName(room, msg.senderId)}: ${summary}`;
  return summary;
}

/** When the room last saw activity, for ordering (ms since epoch; 0 if never). */
export function lastActivity(room: RoomView): number {
  const at = room.lastMessage ? Date.parse(room.lastMessage.createdAt) : NaN;
  return Number.isNaN(at) ? 0 : at;
}

/** Orders rooms newest activity first; quiet rooms by title. */
export function sortRooms(rooms: readonly RoomView[], myUserId: string): RoomView[] {
  return rooms.slice().sort((a, b) => {
    const diff = lastActivity(b) - lastActivity(a);
    if (diff !== 0) return diff;
    return roomTitle(a, myUserId).localeCompare(roomTitle(b, myUserId));
  });
}

/**
 * The room with a member's read pointer moved (never backwards). Only the
 * member's pointer (for ✓✓): the user's own unread count comes with the
 * event, counted by the client core (see `withCounts`).
 */
export function moveReadPointer(room: RoomView, userId: string, seq: number): RoomView {
  if (!room.members.some((m) => m.userId === userId && seq > m.lastReadSeq)) return room;
  const members = room.members.map((m) =>
    m.userId === userId && seq > m.lastReadSeq ? { ...m, lastReadSeq: seq } : m,
  );
  return { ...room, members };
}

/** The room with the preview and numbers the client core reported after a change. */
export function withCounts(room: RoomView, counts: RoomCounts): RoomView {
  return {
    ...room,
    lastSeq: counts.lastSeq,
    myReadSeq: counts.myReadSeq,
    unreadCount: counts.unreadCount,
    mentionCount: counts.mentionCount,
    lastMessage: counts.lastMessage,
  };
}

/** The room with a member's presence changed, or null if they are not in it. */
export function applyPresence(
  room: RoomView,
  userId: string,
  status: string,
  lastSeen: string | null,
): RoomView | null {
  if (!room.members.some((m) => m.userId === userId)) return null;
  return {
    ...room,
    members: room.members.map((m) =>
      m.userId === userId ? { ...m, status, lastSeen: lastSeen ?? m.lastSeen } : m,
    ),
  };
}

/** Initials for an avatar: up to two letters of the title. */
export function initials(title: string): string {
  const words = title.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [words[0] ?? "?"];
  return letters
    .map((w) => Array.from(w ?? "")[0] ?? "")
    .join("")
    .toUpperCase() || "?";
}

/**
 * The file id of a user's picture from its `avatarUrl` (`/api/files/{fileId}`,
 * optionally absolute), or null when there is none or it is not one of ours.
 */
export function avatarFileId(url: string | null | undefined): string | null {
  if (!url) return null;
  const m = /\/api\/files\/([A-Za-z0-9-]+)(?:\/thumbnail)?$/.exec(url);
  return m?.[1] ?? null;
}

/** What the chat header shows for a room. */
export interface RoomHeader {
  title: string;
  /** Presence for a direct room ("online", "last seen …"); member count for a group. */
  subtitle: string;
  /** Avatar text: initials, or "#" for a group. */
  avatar: string;
  /** The partner's picture (a direct room), else null. */
  avatarUrl: string | null;
  /** The partner's presence dot: null for groups or when unknown. */
  online: boolean | null;
}

/** The chat header of a room, as of `now`. */
export function roomHeader(room: RoomView, myUserId: string, now: Date, locale?: string): RoomHeader {
  const title = roomTitle(room, myUserId);
  const partner = directPartner(room, myUserId);
  if (partner) {
    return {
      title,
      subtitle: presenceLabel(partner.status, partner.lastSeen, now, locale) || "Direct chat",
      avatar: initials(title),
      avatarUrl: partner.avatarUrl,
      online: partner.status === null ? null : partner.status === "online",
    };
  }
  const n = room.members.length;
  const online = room.members.filter((m) => m.status === "online" && m.userId !== myUserId).length;
  const count = n === 1 ? "1 member" : `${n} members`;
  return { title, subtitle: online ? `${count}, ${online} online` : count, avatar: "#", avatarUrl: null, online: null };
}
