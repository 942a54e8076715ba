//! The shapes the UI shares with the Rust shell. Everything the client core
//! defines is generated from Rust into `./gen` (ts-rs) and only re-exported
//! here; the few result shapes that belong to the shell's commands, not to the
//! client core, are declared below.

export type { Attachment } from "./gen/Attachment";
export type { Ban } from "./gen/Ban";
export type { Block } from "./gen/Block";
export type { ClientEvent } from "./gen/ClientEvent";
export type { Command } from "./gen/commands";
export type { ConnectionState } from "./gen/ConnectionState";
export type { Delivery } from "./gen/Delivery";
export type { DeviceInfo } from "./gen/DeviceInfo";
export type { LinkPreview } from "./gen/LinkPreview";
export type { MemberView } from "./gen/MemberView";
export type { MessageChange } from "./gen/MessageChange";
export type { MessageContext } from "./gen/MessageContext";
export type { MessageView } from "./gen/MessageView";
export type { Waiting } from "./gen/Waiting";
export type { NotifyLevel } from "./gen/NotifyLevel";
export type { Origin } from "./gen/Origin";
export type { ReactionView } from "./gen/ReactionView";
export type { ReplyView } from "./gen/ReplyView";
export type { RoomCounts } from "./gen/RoomCounts";
export type { RoomInvite } from "./gen/RoomInvite";
export type { RoomView } from "./gen/RoomView";
export type { SearchPage } from "./gen/SearchPage";
export type { User } from "./gen/User";

/** What `sign_in` returns. */
export interface SignedIn {
  userId: string;
  userName: string;
}

/** What `session` returns when a session was stored last time. */
/** A file about to be sent, as the send dialog shows it (src-tauri/src/files.rs). */
export interface FilePreview {
  name: string;
  /** Bytes. */
  size: number;
  /** A small PNG of a picture as a `data:` URL. */
  thumbnail: string | null;
}

/** The server address the sign-in form should suggest, and where it came from (src-tauri/src/launch.rs). */
export interface SuggestedServer {
  server: string;
  /** A link or LEETCHAT_SERVER (given for this start) wins over the remembered address; config.json does not. */
  from: "link" | "env" | "config";
}

export interface StoredSession {
  userId: string;
  userName: string;
  server: string;
}
