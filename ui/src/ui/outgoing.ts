// What the user does to messages: send text, edit, delete (from the message
// menu), and send files: the attach button, a drop on the open room, or a
// pasted image, shown first in a dialog that takes a caption (the composer's
// text to start with) and sends only when the user says so. Each
// is a command to the shell; what it changes comes back as the client core's
// events (before the command returns) and reaches the views through the
// store. A command's answer is only used to scroll, never to change state.

import type { Api, FileDrag } from "../tauri";
import { errorMessage, isNoClipboardImage } from "../tauri";
import type { Attachment, FilePreview, MessageView } from "../types";
import { outgoingText } from "../logic/composer";
import { MAX_PASTE_BYTES, baseName, formatSize, pastedName } from "../logic/files";
import { messageLink } from "../logic/links";
import { mentionsIn } from "../logic/mentions";
import { canModify, canPin, messageKey } from "../logic/messages";
import { roomTitle, senderName } from "../logic/rooms";
import type { ChatStore } from "../state/store";
import type { Drafts } from "../logic/drafts";
import type { AppView } from "./appview";
import type { Composer } from "./composer";
import { askDialog, confirmDialog } from "./dialogs";
import { openEmojiPicker } from "./emoji";
import { openMenu } from "./menu";
import { sendFilesDialog } from "./senddialog";
import { toast } from "./toast";

/** A file to queue: its name, what the send dialog shows of it, and how to send it with a caption. */
interface FileJob {
  label: string;
  preview(): Promise<Omit<FilePreview, "name">>;
  send(caption: string): Promise<unknown>;
  /** Frees what the preview took (a blob URL). */
  done?(): void;
}

/** A send the server's rate limit holds back: it can still be withdrawn. */
function heldBack(msg: MessageView): boolean {
  return msg.delivery === "pending" && msg.waiting === "rate_limited" && msg.retryAt !== null && msg.retryAt > Date.now();
}

/** The reactions the message menu offers in one click. */
const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/** The user's actions on messages. */
export class Outgoing {
  /** Files are being dragged over the window. */
  private dragging = false;

  constructor(
    private readonly api: Api,
    private readonly store: ChatStore,
    private readonly view: AppView,
    /** Unsent text per room (the open room's is in the composer). */
    private readonly drafts: Pick<Drafts, "get" | "set" | "delete">,
  ) {}

  /** Sends the composer's text to the open room, as a reply to `replyTo` if given. */
  async send(text: string, replyTo: MessageView | null = null): Promise<void> {
    const roomId = this.view.active;
    if (!roomId) return;
    this.drafts.delete(roomId);
    const { mentions, mentionsRoom } = mentionsIn(text, this.store.room(roomId)?.members ?? []);
    try {
      await this.api.sendMessage(roomId, text, replyTo ? messageKey(replyTo) : null, mentions, mentionsRoom);
      this.scrollToEnd(roomId);
    } catch (err) {
      toast(errorMessage(err));
      // Give the text back rather than lose it.
      if (this.view.active === roomId && this.composer.text === "") this.composer.setText(text);
    }
  }

  /** Saves an edit made in the composer. */
  async edit(msg: MessageView, text: string): Promise<void> {
    try {
      await this.api.editMessage(messageKey(msg), text);
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  /** A message's menu: reply, quick reactions, copy, pin; edit and delete for one's own; report someone else's. */
  menu(msg: MessageView, anchor: HTMLElement, at?: { x: number; y: number }): void {
    const room = this.store.room(msg.roomId);
    const me = this.store.myUserId;
    const sent = msg.messageId !== null;
    const mine = (emoji: string) => msg.reactions.some((r) => r.emoji === emoji && r.mine);
    const pinned = sent && (room?.pinnedMessageIds ?? []).includes(msg.messageId as string);
    const who = msg.senderId === me ? "yourself" : senderName(room, msg.senderId);
    openMenu(
      anchor,
      [
        { label: "Reply", run: () => this.composer.startReply(msg, who) },
        ...QUICK_REACTIONS.map((emoji) => ({
          label: mine(emoji) ? `${emoji} Remove reaction` : `${emoji} React`,
          run: () => void this.react(msg, emoji, !mine(emoji)),
        })),
        ...(sent ? [{ label: "React…", run: () => void openEmojiPicker(anchor, "Pick a reaction", (emoji) => void this.react(msg, emoji, !mine(emoji))) }] : []),
        ...(msg.content ? [{ label: "Copy text", run: () => void this.copy(msg.content) }] : []),
        ...(sent ? [{ label: "Copy link", run: () => void this.copy(messageLink(msg.roomId, msg.messageId as string), "Link copied") }] : []),
        ...(sent && canPin(room, me) ? [{ label: pinned ? "Unpin" : "Pin", run: () => void this.pin(msg, !pinned) }] : []),
        ...(canModify(msg, me) && msg.type === "text" && msg.delivery !== "failed" ? [{ label: "Edit", run: () => this.composer.startEdit(msg) }] : []),
        ...(canModify(msg, me) && heldBack(msg) ? [{ label: "Cancel sending", run: () => void this.cancelSend(msg) }] : []),
        ...(canModify(msg, me) && !heldBack(msg) ? [{ label: "Delete", danger: true, run: () => void this.remove(msg) }] : []),
        ...(sent && msg.senderId !== me && !msg.deletedAt ? [{ label: "Report…", separated: true, run: () => void this.report(msg, who) }] : []),
      ],
      "Message actions",
      at,
    );
  }

  /** Reports someone else's message to the server's admins, with the user's reason. */
  async report(msg: MessageView, sender: string): Promise<void> {
    const messageId = msg.messageId;
    if (!messageId) return;
    const reason = await askDialog("Report message", `Tell the server's admins what is wrong with this message from ${sender}. ${sender} is not told who reported it.`, {
      label: "What is wrong with it",
      yes: "Report",
      required: true,
      act: (r) => this.api.report(messageId, r.trim()),
    });
    if (reason !== null) toast("Reported to the server's admins. Thank you.", "info");
  }

  /** Adds or takes back the user's reaction (a chip's click, or the menu). */
  async react(msg: MessageView, emoji: string, add: boolean): Promise<void> {
    try {
      await this.api.react(messageKey(msg), emoji, add);
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  /** Pins or unpins a message. */
  async pin(msg: MessageView, pin: boolean): Promise<void> {
    try {
      await this.api.pinMessage(messageKey(msg), pin);
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  /** Opens a message's link outside the app. */
  async openLink(url: string): Promise<void> {
    try {
      await this.api.openLink(url);
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  private async copy(text: string, done = "Copied"): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      toast(done);
    } catch (err) {
      toast(`Could not copy: ${errorMessage(err)}`);
    }
  }

  /** The attach button: pick files, then send them to the room it was pressed in. */
  async attach(): Promise<void> {
    const roomId = this.view.active;
    if (!roomId) return;
    let paths: string[];
    try {
      paths = await this.api.pickFiles();
    } catch (err) {
      toast(`Could not open the file picker: ${errorMessage(err)}`);
      return;
    }
    if (paths.length > 0 && this.store.room(roomId)) await this.sendQueued(roomId, paths.map((path) => this.fileJob(roomId, path)));
    if (this.view.active === roomId) this.composer.focus();
  }

  /** Files dragged over the window: the open room is the drop zone. */
  onFileDrag(d: FileDrag): void {
    const chat = this.view.chat;
    switch (d.type) {
      case "enter":
        this.dragging = true;
        chat.setDropTarget(this.view.active !== null && chat.isDropZone(d.x, d.y));
        break;
      case "over":
        if (this.dragging) chat.setDropTarget(this.view.active !== null && chat.isDropZone(d.x, d.y));
        break;
      case "leave":
        this.dragging = false;
        chat.setDropTarget(false);
        break;
      case "drop": {
        this.dragging = false;
        chat.setDropTarget(false);
        const roomId = this.view.active;
        if (!roomId && d.paths.length > 0) toast("Open a chat first, then drop the files on it.", "info");
        if (!roomId || d.paths.length === 0 || !chat.isDropZone(d.x, d.y)) break;
        void this.sendQueued(roomId, d.paths.map((path) => this.fileJob(roomId, path)));
        break;
      }
    }
  }

  /** Images pasted into the composer: sent as files named by the time. */
  async pasteImages(files: File[]): Promise<void> {
    const roomId = this.view.active;
    if (!roomId) return;
    const at = new Date();
    const jobs: FileJob[] = [];
    files.forEach((file, i) => {
      const name = pastedName(file.type, at, i);
      if (!name) {
        toast(`Images of type ${file.type || "unknown"} cannot be sent; paste a PNG, JPEG, GIF or WebP.`);
      } else if (file.size > MAX_PASTE_BYTES) {
        toast(`The pasted image is too big (${formatSize(file.size)}; at most ${formatSize(MAX_PASTE_BYTES)}).`);
      } else {
        let url: string | null = null;
        jobs.push({
          label: name,
          preview: async () => {
            url = URL.createObjectURL(file);
            return { size: file.size, thumbnail: url };
          },
          done: () => {
            if (url) URL.revokeObjectURL(url);
          },
          send: async (caption) => {
            const bytes = Array.from(new Uint8Array(await file.arrayBuffer()));
            return this.api.sendFileBytes(roomId, name, bytes, caption);
          },
        });
      }
    });
    if (jobs.length > 0) await this.sendQueued(roomId, jobs);
  }

  /**
   * A paste that carried neither images nor text (WebKitGTK hands pasted
   * images to the page as nothing): the shell reads the OS clipboard's image
   * as a PNG, which then goes the way of any pasted image. Quiet when the
   * clipboard holds no image.
   */
  async pasteClipboard(): Promise<void> {
    if (!this.view.active) return;
    let png: ArrayBuffer;
    try {
      png = await this.api.clipboardImage();
    } catch (err) {
      if (!isNoClipboardImage(err)) toast(`Could not read the pasted image: ${errorMessage(err)}`);
      return;
    }
    await this.pasteImages([new File([png], "clipboard.png", { type: "image/png" })]);
  }

  /** Copies an attachment to the Downloads folder and says where it went. */
  async saveFile(att: Attachment): Promise<void> {
    try {
      const path = await this.api.saveFile(att.fileId);
      toast(`Saved to ${path}`, "info");
    } catch (err) {
      toast(`Could not save ${att.name}: ${errorMessage(err)}`);
    }
  }

  private get composer(): Composer {
    return this.view.chat.composer;
  }

  /** The user's own message just went in: show it (its event has put it in the list). */
  private scrollToEnd(roomId: string): void {
    if (this.view.active === roomId) this.view.scheduleList(true);
  }

  /**
   * Withdraws a message the server's rate limit holds back (the client core
   * drops it; in the rare case the server might have it after all, from an
   * attempt whose answer was lost, it is deleted once sent).
   */
  async cancelSend(msg: MessageView): Promise<void> {
    try {
      await this.api.deleteMessage(messageKey(msg));
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  private async remove(msg: MessageView): Promise<void> {
    const ok = await confirmDialog("Delete message?", "It will be deleted for everyone in this chat.", "Delete");
    if (!ok) return;
    try {
      await this.api.deleteMessage(messageKey(msg));
    } catch (err) {
      toast(errorMessage(err));
    }
    this.composer.focus();
  }

  private fileJob(roomId: string, path: string): FileJob {
    return {
      label: baseName(path),
      preview: () => this.api.filePreview(path),
      send: (caption) => this.api.sendFile(roomId, path, caption),
    };
  }

  /**
   * Shows the files in the send dialog, with the composer's text as their
   * caption; if the user sends them, queues them one after another (their
   * order is kept), the caption on the first one queued. A caption that no
   * file took is given back to the composer; a cancel leaves it as it was.
   */
  private async sendQueued(roomId: string, jobs: FileJob[]): Promise<void> {
    const draft = this.view.active === roomId ? this.composer.peekCaption() : "";
    const room = this.store.room(roomId);
    let caption: string | null;
    try {
      caption = await sendFilesDialog(
        room ? roomTitle(room, this.store.myUserId) : "this chat",
        jobs.map((j) => ({ name: j.label, preview: j.preview() })),
        draft,
      );
    } finally {
      for (const j of jobs) j.done?.();
    }
    if (caption === null) {
      if (this.view.active === roomId) this.composer.focus();
      return;
    }
    caption = outgoingText(caption);
    // The composer's text was offered as the caption and went with the files
    // as it was: it leaves the composer (and the draft). Changed or cleared in
    // the dialog, it stays where it is.
    if (draft && caption === draft) {
      if (this.view.active === roomId && this.composer.peekCaption() === draft) this.composer.takeCaption();
      if (outgoingText(this.drafts.get(roomId) ?? "") === draft) this.drafts.delete(roomId);
    }
    for (const job of jobs) {
      try {
        await job.send(caption);
        caption = "";
        this.scrollToEnd(roomId);
      } catch (err) {
        toast(`Could not send ${job.label}: ${errorMessage(err)}`);
      }
    }
    if (caption) {
      if (this.view.active === roomId && this.composer.text === "") this.composer.setText(caption);
      else if (this.view.active !== roomId && !this.drafts.get(roomId)) this.drafts.set(roomId, caption);
    }
    if (this.view.active === roomId) this.composer.focus();
  }
}
