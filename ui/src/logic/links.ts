// Links to messages: `leetchat://message/<roomId>/<messageId>`, what "Copy
// link" puts on the clipboard. Pasted into a message they render as links
// that open the message in the app (in its room, history loaded as needed),
// never the browser. They name ids only: a reader who is not in the room
// learns nothing from one.

const PREFIX = "leetchat://message/";

/** A message's link. */
export function messageLink(roomId: string, messageId: string): string {
  return `${PREFIX}${encodeURIComponent(roomId)}/${encodeURIComponent(messageId)}`;
}

/** The room and message a message link names (null: not one). */
export function parseMessageLink(url: string): { roomId: string; messageId: string } | null {
  const u = url.trim();
  if (!u.toLowerCase().startsWith(PREFIX)) return null;
  const parts = u.slice(PREFIX.length).split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  try {
    return { roomId: decodeURIComponent(parts[0]), messageId: decodeURIComponent(parts[1]) };
  } catch {
    return null;
  }
}
