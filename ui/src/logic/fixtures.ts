// Builders of sample views for the logic tests (not used by the app).

import type { MemberView, MessageView, RoomView } from "../types";

/** A sent text message; override any field. */
export function msg(over: Partial<MessageView> = {}): MessageView {
  const localId = over.localId ?? 1;
  return {
    localId,
    messageId: over.seq === null ? null : `m${localId}`,
    roomId: "r1",
    seq: localId,
    senderId: "alice",
    tempId: null,
    type: "text",
    content: `message ${localId}`,
    attachments: [],
    replyTo: null,
    replyPreview: null,
    reactions: [],
    mentions: [],
    mentionsRoom: false,
    linkPreview: null,
    createdAt: "2024-03-05T10:00:00.000Z",
    editedAt: null,
    deletedAt: null,
    delivery: "sent",
    error: null,
    waiting: null,
    retryAt: null,
    island: false,
    ...over,
  };
}

/** A pending message (no seq, no server id yet). */
export function pending(localId: number, over: Partial<MessageView> = {}): MessageView {
  return msg({ localId, seq: null, messageId: null, tempId: `t${localId}`, delivery: "pending", ...over });
}

/** A member; override any field. */
export function member(userId: string, over: Partial<MemberView> = {}): MemberView {
  return {
    userId,
    userName: userId,
    displayName: userId[0]?.toUpperCase() + userId.slice(1),
    role: "member",
    lastReadSeq: 0,
    status: null,
    lastSeen: null,
    avatarUrl: null,
    ...over,
  };
}

/** A room; override any field. */
export function room(over: Partial<RoomView> = {}): RoomView {
  return {
    roomId: "r1",
    type: "direct",
    name: "",
    description: "",
    members: [member("alice"), member("bob")],
    lastSeq: 0,
    unreadCount: 0,
    myReadSeq: 0,
    lastMessage: null,
    hasOlder: false,
    mentionCount: 0,
    pinnedMessageIds: [],
    notifyLevel: "all",
    muteUntil: null,
    notifyFollowsDefault: true,
    ...over,
  };
}

/** The seqs (or `p<localId>` for pending) of a list, to compare order at a glance. */
export function order(list: readonly MessageView[]): string[] {
  return list.map((m) => (m.seq === null ? `p${m.localId}` : String(m.seq)));
}
