// The banner above the chat that says how the connection stands. It is hidden
// while online: the user only needs telling when messages may be late.

import type { ConnectionState } from "../types";

/** What the banner shows: its text and a tone for styling, or null to hide it. */
export interface Banner {
  text: string;
  tone: "warn" | "info";
}

/**
 * The banner for a connection state. `wasOnline` tells a first connect
 * ("Connecting…") from a reconnect after a drop ("Reconnecting…").
 */
export function connectionBanner(state: ConnectionState, wasOnline: boolean): Banner | null {
  switch (state) {
    case "online":
      return null;
    case "offline":
      return { text: "Offline. Messages will be sent when the connection is back.", tone: "warn" };
    case "connecting":
      return { text: wasOnline ? "Reconnecting…" : "Connecting…", tone: "info" };
    case "syncing":
      return { text: "Catching up…", tone: "info" };
    case "signed_out":
      return { text: "Signed out. Please sign in again.", tone: "warn" };
  }
}
