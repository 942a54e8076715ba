// The mark beside the user's own messages: ○ waiting in the outbox, ✓ stored
// on the server, ✓✓ read by someone else, ! refused. Others' messages get none.

import type { Delivery, MemberView, MessageView } from "../types";

/** A delivery mark: the glyph shown and what a screen reader hears. */
export interface DeliveryMark {
  glyph: string;
  label: string;
  state: Delivery;
  /** A pending message held back for a while (the label counts down). */
  waiting?: true;
}

const GLYPHS: Record<Delivery, string> = {
  pending: "○",
  sent: "✓",
  read: "✓✓",
  failed: "!",
};

const LABELS: Record<Delivery, string> = {
  pending: "Sending",
  sent: "Sent",
  read: "Read",
  failed: "Not sent",
};

/**
 * The furthest read pointer among the room's other members: a receipt moves
 * it before the store re-reads the message, so the UI can show ✓✓ at once.
 */
export function othersReadSeq(members: readonly MemberView[], myUserId: string): number {
  let max = 0;
  for (const m of members) if (m.userId !== myUserId && m.lastReadSeq > max) max = m.lastReadSeq;
  return max;
}

/** Where a message stands, upgrading "sent" to "read" once a pointer passed it. */
export function effectiveDelivery(msg: MessageView, readSeq: number): Delivery {
  if (msg.delivery === "sent" && msg.seq !== null && msg.seq <= readSeq) return "read";
  return msg.delivery;
}

/**
 * The mark for a message, or null when it is not the user's own (or is a
 * tombstone, which has nothing left to deliver).
 */
export function deliveryMark(
  msg: MessageView,
  myUserId: string,
  readSeq = 0,
  now = Date.now(),
): DeliveryMark | null {
  if (msg.senderId !== myUserId || msg.deletedAt !== null) return null;
  const state = effectiveDelivery(msg, readSeq);
  if (state === "pending" && msg.waiting && msg.retryAt !== null && msg.retryAt > now) {
    const wait = inTime(msg.retryAt - now);
    const label =
      msg.waiting === "rate_limited" ? `Slowed down by the server: sending in ${wait}` : `The server had a problem: trying again in ${wait}`;
    return { glyph: GLYPHS.pending, label, state, waiting: true };
  }
  const label = state === "failed" && msg.error ? `Not sent: ${msg.error}` : LABELS[state];
  return { glyph: GLYPHS[state], label, state };
}

/** A wait as people say it: "48 s", "2 min 30 s" (whole seconds, rounded up). */
function inTime(ms: number): string {
  const secs = Math.max(1, Math.ceil(ms / 1000));
  if (secs < 60) return `${secs} s`;
  const min = Math.floor(secs / 60);
  const rest = secs % 60;
  return rest ? `${min} min ${rest} s` : `${min} min`;
}
