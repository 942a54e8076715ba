// The one door to the Rust shell. Everything else calls the typed methods of
// `Api` and never imports `@tauri-apps/*`, so the UI can also run in a plain
// browser against another backend (the dev mock) and its logic needs no
// Tauri at all in tests.

import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { friendlyError, type Doing } from "./logic/errors";
import type {
  Ban,
  Block,
  ClientEvent,
  Command,
  DeviceInfo,
  MessageContext,
  MessageView,
  NotifyLevel,
  RoomInvite,
  RoomView,
  SearchPage,
  SignedIn,
  FilePreview,
  StoredSession,
  SuggestedServer,
  User,
} from "./types";

/** The name of the event the shell emits for every `ClientEvent`. */
export const CLIENT_EVENT = "client-event";

/** The event the shell emits when a clicked notification should open a room. */
export const OPEN_ROOM_EVENT = "open-room";

/**
 * Files dragged over the window from outside (the desktop, a file manager).
 * `x`/`y` are CSS pixels in the page (for `document.elementFromPoint`).
 */
export type FileDrag =
  | { type: "enter"; paths: string[]; x: number; y: number }
  | { type: "over"; x: number; y: number }
  | { type: "drop"; paths: string[]; x: number; y: number }
  | { type: "leave" };

/** What the UI needs from a host: call a command, hear an event. */
export interface Backend {
  /**
   * Runs a shell command (one of the shell's list, `gen/commands.ts`);
   * rejects with the shell's error message.
   */
  invoke<T>(command: Command, args?: Record<string, unknown>): Promise<T>;
  /** Subscribes to a shell event; resolves to the unsubscribe function. */
  listen(event: string, handler: (payload: unknown) => void): Promise<() => void>;
  /** A URL the page can load (an <img> src) for a local file path from the shell. */
  fileSrc(path: string): string;
  /** Subscribes to files dragged onto the window; resolves to the unsubscribe function. */
  onFileDrag(handler: (drag: FileDrag) => void): Promise<() => void>;
}

/** Whether the page runs inside the Tauri webview (the shell injects this). */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** The real backend: Tauri's IPC. */
export const tauriBackend: Backend = {
  invoke: (command, args) => invoke(command, args),
  listen: (event, handler) => listen(event, (e) => handler(e.payload)),
  // The asset protocol (enabled for the app's data folder) serves the file.
  fileSrc: (path) => convertFileSrc(path),
  onFileDrag: async (handler) => {
    // Loaded apart: the webview module is big, and only this needs it.
    const { getCurrentWebview } = await import("@tauri-apps/api/webview");
    // Tauri reports physical pixels relative to the webview.
    const unlisten = await getCurrentWebview().onDragDropEvent(({ payload: p }) => {
      if (p.type === "leave") {
        handler({ type: "leave" });
        return;
      }
      const { x, y } = p.position.toLogical(window.devicePixelRatio || 1);
      handler(p.type === "over" ? { type: "over", x, y } : { type: p.type, paths: p.paths, x, y });
    });
    return () => void unlisten();
  },
};

/** A command's error as the shell gave it (it rejects with a string). */
export function rawError(err: unknown): string {
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && "message" in err) return String(err.message);
  return "Something went wrong.";
}

/**
 * A command's error as a sentence for the user (never the core's "server
 * refused: … (code)"); `doing` names what failed where that changes it.
 */
export function errorMessage(err: unknown, doing?: Doing): string {
  return friendlyError(rawError(err), doing);
}

/** The shell's answer to `clipboard_image` when the clipboard holds no image. */
export const NO_CLIPBOARD_IMAGE = "no image on the clipboard";

/** Whether `err` says the clipboard had no image (nothing to tell the user). */
export function isNoClipboardImage(err: unknown): boolean {
  return rawError(err) === NO_CLIPBOARD_IMAGE;
}

/** Fields of the sign-in / sign-up form. */
export interface SignInArgs {
  server: string;
  userName: string;
  password: string;
  register: boolean;
  displayName?: string;
  /** A server invite, for servers that take new accounts by invite only. */
  invite?: string;
  /** Keep the tokens in a file only this user can read (there is no OS keyring). */
  useFileStore?: boolean;
}

/** How the shell's error starts when there is no OS keyring (src-tauri/src/shell.rs, NO_KEYRING). */
export const NO_KEYRING = "no OS keyring:";

/**
 * How it starts when sign-up created the account but its tokens could not
 * be kept (src-tauri/src/shell.rs, NOT_KEPT): the retry signs in to it.
 */
export const NOT_KEPT = "no OS keyring (account created):";

/** Whether `err` says there is no OS keyring to keep the sign-in in. */
export function isNoKeyring(err: unknown): boolean {
  const raw = rawError(err);
  return raw.startsWith(NO_KEYRING) || raw.startsWith(NOT_KEPT);
}

/** Whether `err` says sign-up made the account, though the sign-in could not be kept. */
export function isAccountNotKept(err: unknown): boolean {
  return rawError(err).startsWith(NOT_KEPT);
}

/** The shell's commands, typed. Argument names are the shell's (camelCase). */
export class Api {
  constructor(private readonly backend: Backend) {}

  /** Signs in, or registers first when `register` is set. */
  signIn(args: SignInArgs): Promise<SignedIn> {
    return this.backend.invoke("sign_in", { ...args });
  }

  /** The session stored last time, if any. */
  session(): Promise<StoredSession | null> {
    return this.backend.invoke("session");
  }

  /** The app's version and license (Settings → About). */
  about(): Promise<{ version: string; license: string }> {
    return this.backend.invoke("about");
  }

  /** The server address the app was started with (a link, LEETCHAT_SERVER, config.json), if any. */
  suggestedServer(): Promise<SuggestedServer | null> {
    return this.backend.invoke("suggested_server");
  }

  /** Signs out and forgets the stored session. */
  signOut(): Promise<void> {
    return this.backend.invoke("sign_out");
  }

  /** Every room the user is in. */
  rooms(): Promise<RoomView[]> {
    return this.backend.invoke("rooms");
  }

  /** A page of a room's messages, ascending, pending ones last. */
  messages(roomId: string, limit: number, beforeSeq?: number): Promise<MessageView[]> {
    const args: Record<string, unknown> = { roomId, limit };
    if (beforeSeq !== undefined) args.beforeSeq = beforeSeq;
    return this.backend.invoke("messages", args);
  }

  /** One stored message (key: messageId, tempId or String(localId)); null when this device does not have it. */
  message(key: string): Promise<MessageView | null> {
    return this.backend.invoke("message", { key });
  }

  /**
   * Queues a text message; resolves to it as pending. Its `message_upserted`
   * event (origin "local") comes before the answer: the UI takes the message
   * from that, never from here.
   */
  sendText(roomId: string, content: string): Promise<MessageView> {
    return this.backend.invoke("send_text", { roomId, content });
  }

  /** Queues a text message that may answer one and mention members (see `sendText`). */
  sendMessage(roomId: string, content: string, replyTo: string | null, mentions: string[], mentionsRoom: boolean): Promise<MessageView> {
    return this.backend.invoke("send_message", { roomId, content, replyTo, mentions, mentionsRoom });
  }

  /** Adds (or takes back) the user's reaction; shown at once, sent through the outbox. */
  react(key: string, emoji: string, add: boolean): Promise<MessageView> {
    return this.backend.invoke("react", { key, emoji, add });
  }

  /** Pins or unpins a message; resolves to its room as it now stands. */
  pinMessage(key: string, pin: boolean): Promise<RoomView> {
    return this.backend.invoke("pin_message", { key, pin });
  }

  /**
   * Sets a room's notification level (`default`: the user's default) and,
   * when `changeMute`, its mute (`muteUntil`: RFC 3339, or null to unmute).
   */
  setRoomNotify(roomId: string, level: NotifyLevel | "default", muteUntil: string | null, changeMute: boolean): Promise<RoomView> {
    return this.backend.invoke("set_room_notify", { roomId, level, muteUntil, changeMute });
  }

  /** The user's default notification level. */
  notifyDefault(): Promise<NotifyLevel> {
    return this.backend.invoke("notify_default");
  }

  /** Sets the level of every room the user has set none for. */
  setNotifyDefault(level: NotifyLevel): Promise<NotifyLevel> {
    return this.backend.invoke("set_notify_default", { level });
  }

  /** Opens a link in the system's browser (or mail program). */
  openLink(url: string): Promise<void> {
    return this.backend.invoke("open_link", { url });
  }

  /** Edits a message (key: messageId, tempId or String(localId)). */
  editMessage(key: string, content: string): Promise<MessageView> {
    return this.backend.invoke("edit_message", { key, content });
  }

  /** Deletes a message (key as for `editMessage`). */
  deleteMessage(key: string): Promise<void> {
    return this.backend.invoke("delete_message", { key });
  }

  /** Fetches older history from the server into the store; resolves to how many came. */
  loadOlder(roomId: string): Promise<number> {
    return this.backend.invoke("load_older", { roomId });
  }

  /** Moves the user's read pointer. */
  markRead(roomId: string, seq: number): Promise<void> {
    return this.backend.invoke("mark_read", { roomId, seq });
  }

  /** Tells the room the user started or stopped typing. */
  setTyping(roomId: string, typing: boolean): Promise<void> {
    return this.backend.invoke("set_typing", { roomId, typing });
  }

  /** Users whose name matches. */
  searchUsers(query: string): Promise<User[]> {
    return this.backend.invoke("search_users", { query });
  }

  /**
   * Messages matching `query` (every word, the last also as a prefix), newest
   * first: the server's and this device's merged, this device's alone
   * (`fromServer` false) when offline. `before`: a `nextCursor`.
   */
  searchMessages(query: string, roomId: string | null, before: string | null, limit: number): Promise<SearchPage> {
    return this.backend.invoke("search_messages", { query, roomId, before, limit });
  }

  /** A message with up to `around` messages on each side (fetched from the server when not stored). */
  messageContext(messageId: string, around: number): Promise<MessageContext> {
    return this.backend.invoke("message_context", { messageId, around });
  }

  /** The direct room with a user (created if new). */
  createDirect(userId: string): Promise<RoomView> {
    return this.backend.invoke("create_direct", { userId });
  }

  /** A new group with these members. */
  createGroup(name: string, memberIds: string[]): Promise<RoomView> {
    return this.backend.invoke("create_group", { name, memberIds });
  }

  /** Tells the shell which room is on screen (it skips notifying for that one). */
  setActiveRoom(roomId: string | null): Promise<void> {
    return this.backend.invoke("set_active_room", { roomId });
  }

  /**
   * Queues a file message (an image when the name says so) with a caption;
   * resolves to it as pending. `upload_progress` events follow.
   */
  sendFile(roomId: string, path: string, caption: string): Promise<MessageView> {
    return this.backend.invoke("send_file", { roomId, path, caption });
  }

  /** Queues pasted bytes (a clipboard image) as a file named `name`, like `sendFile`. */
  sendFileBytes(roomId: string, name: string, bytes: number[], caption: string): Promise<MessageView> {
    return this.backend.invoke("send_file_bytes", { roomId, name, bytes, caption });
  }

  /**
   * The image on the OS clipboard as PNG bytes (read by the shell), to show
   * and then send with `sendFileBytes`. For webviews whose paste event
   * carries no image (WebKitGTK); rejects with NO_CLIPBOARD_IMAGE when there is none.
   */
  clipboardImage(): Promise<ArrayBuffer> {
    return this.backend.invoke("clipboard_image");
  }

  /** A file's name, size and (for a picture) a small copy, to show before it is sent. */
  filePreview(path: string): Promise<FilePreview> {
    return this.backend.invoke("file_preview", { path });
  }

  /** Downloads an attachment (or its thumbnail) once, then reuses it; resolves to its local path. */
  filePath(fileId: string, thumbnail: boolean): Promise<string> {
    return this.backend.invoke("file_path", { fileId, thumbnail });
  }

  /** Like `filePath`, as a URL an <img> can load. */
  async fileUrl(fileId: string, thumbnail: boolean): Promise<string> {
    return this.backend.fileSrc(await this.filePath(fileId, thumbnail));
  }

  /** Copies an attachment into the Downloads folder; resolves to the saved path. */
  saveFile(fileId: string): Promise<string> {
    return this.backend.invoke("save_file", { fileId });
  }

  /** Opens the native file picker; resolves to the chosen paths (none if cancelled). */
  pickFiles(): Promise<string[]> {
    return this.backend.invoke("pick_files");
  }

  /** Tells the shell the unread total (window title, and badge where the platform has one). */
  setUnread(count: number): Promise<void> {
    return this.backend.invoke("set_unread", { count });
  }

  // ---- profile, account, groups (running a community) ----

  /** The signed-in user as this device knows them. */
  profile(): Promise<User> {
    return this.backend.invoke("profile");
  }

  /**
   * Changes the display name (null: keeps it) and/or the picture: a local
   * image's path (the server crops it square), or `removeAvatar`.
   */
  updateProfile(displayName: string | null, avatarPath: string | null, removeAvatar: boolean): Promise<User> {
    return this.backend.invoke("update_profile", { displayName, avatarPath, removeAvatar });
  }

  /** The users this device knows among `userIds` (unknown ones are left out). */
  knownUsers(userIds: string[]): Promise<User[]> {
    return this.backend.invoke("known_users", { userIds });
  }

  /** Everyone the user blocked, newest first. */
  blocks(): Promise<Block[]> {
    return this.backend.invoke("blocks");
  }

  /** Blocks (or unblocks) a user; resolves to the list as it now stands. */
  block(userId: string, block: boolean): Promise<Block[]> {
    return this.backend.invoke("block", { userId, block });
  }

  /** The account's signed-in devices (this one marked `current`). */
  devices(): Promise<DeviceInfo[]> {
    return this.backend.invoke("devices");
  }

  /** Signs another of the account's devices out. */
  signOutDevice(deviceId: string): Promise<void> {
    return this.backend.invoke("sign_out_device", { deviceId });
  }

  /** Saves the account's data as JSON in the Downloads folder; resolves to its path. */
  exportData(): Promise<string> {
    return this.backend.invoke("export_data");
  }

  /** Deletes the account (the password confirms it) and signs this device out. */
  deleteAccount(password: string): Promise<void> {
    return this.backend.invoke("delete_account", { password });
  }

  /** A group's new name and/or description (null: unchanged). */
  updateRoom(roomId: string, name: string | null, description: string | null): Promise<RoomView> {
    return this.backend.invoke("update_room", { roomId, name, description });
  }

  /** Adds people to a group. */
  addMembers(roomId: string, userIds: string[]): Promise<RoomView> {
    return this.backend.invoke("add_members", { roomId, userIds });
  }

  /** Removes a member from a group, or leaves it when it is the user. */
  removeMember(roomId: string, userId: string): Promise<void> {
    return this.backend.invoke("remove_member", { roomId, userId });
  }

  /** Makes a member an admin or a plain member, or hands the group to them ("owner"). */
  setMemberRole(roomId: string, userId: string, role: "owner" | "admin" | "member"): Promise<RoomView> {
    return this.backend.invoke("set_member_role", { roomId, userId, role });
  }

  /** A new invite link to a group (null: no limit on uses, no expiry). */
  createInvite(roomId: string, maxUses: number | null, expiresInS: number | null): Promise<RoomInvite> {
    return this.backend.invoke("create_invite", { roomId, maxUses, expiresInS });
  }

  /** A group's usable invite links. */
  invites(roomId: string): Promise<RoomInvite[]> {
    return this.backend.invoke("invites", { roomId });
  }

  /** An invite link stops working. */
  revokeInvite(code: string): Promise<void> {
    return this.backend.invoke("revoke_invite", { code });
  }

  /** Joins a group with an invite code or a link holding one. */
  joinRoom(code: string): Promise<RoomView> {
    return this.backend.invoke("join_room", { code });
  }

  /** Bans someone from a group (removing them), or lets them back (`ban` false). */
  ban(roomId: string, userId: string, ban: boolean, reason: string | null): Promise<void> {
    return this.backend.invoke("ban", { roomId, userId, ban, reason });
  }

  /** A group's bans, newest first. */
  bans(roomId: string): Promise<Ban[]> {
    return this.backend.invoke("bans", { roomId });
  }

  /** Reports a message to the server's admins. */
  report(messageId: string, reason: string): Promise<void> {
    return this.backend.invoke("report", { messageId, reason });
  }

  /** Subscribes to the shell's requests to open a room (a clicked notification). */
  onOpenRoom(handler: (roomId: string) => void): Promise<() => void> {
    return this.backend.listen(OPEN_ROOM_EVENT, (payload) => {
      const id = (payload as { roomId?: unknown } | null)?.roomId;
      if (typeof id === "string" && id !== "") handler(id);
    });
  }

  /** Subscribes to files dragged onto the window. */
  onFileDrag(handler: (drag: FileDrag) => void): Promise<() => void> {
    return this.backend.onFileDrag(handler);
  }

  /** Subscribes to the client core's events. */
  onClientEvent(handler: (event: ClientEvent) => void): Promise<() => void> {
    return this.backend.listen(CLIENT_EVENT, (payload) => handler(payload as ClientEvent));
  }
}
