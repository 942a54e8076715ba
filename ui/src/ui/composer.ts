// The composer under the messages: a growing textarea where Enter sends,
// Shift+Enter breaks the line, Up edits the user's last message and Escape
// leaves editing. It also tells the room when the user types (sparingly:
// "started" at most every few seconds, "stopped" after a pause). The paperclip
// picks files to send; pasting an image sends it (the text becomes its caption).

import type { MessageView } from "../types";
import { composerAction, outgoingText, pasteAction } from "../logic/composer";
import { h, show } from "./dom";
import { icon } from "./icons";

/** How often a continuing typist re-announces "typing" (the server forgets after 5 s). */
const TYPING_RENEW_MS = 3_000;
/** How long a pause ends "typing". */
const TYPING_IDLE_MS = 4_000;
/** The tallest the textarea grows before it scrolls. */
const MAX_HEIGHT_PX = 200;

/** What the composer asks of its owner. */
export interface ComposerHandlers {
  /** Send new text. */
  onSend(text: string, replyTo: MessageView | null): void;
  /** Save an edit of `msg`. */
  onSaveEdit(msg: MessageView, text: string): void;
  /** The message Up should edit, if any. */
  lastEditable(): MessageView | null;
  /** The user started or stopped typing. */
  onTyping(typing: boolean): void;
  /** The attach button was pressed: pick files and send them. */
  onAttach(): void;
  /** Images were pasted: send them. */
  onPasteImages(images: File[]): void;
  /** A paste carried neither images nor text: send the OS clipboard's image, if any. */
  onPasteClipboard(): void;
}

/** The images in a paste (clipboard blobs and copied image files). */
function pastedImages(data: DataTransfer | null): File[] {
  if (!data) return [];
  const out: File[] = [];
  for (const item of data.items) {
    if (item.kind !== "file" || !item.type.startsWith("image/")) continue;
    const file = item.getAsFile();
    if (file) out.push(file);
  }
  if (out.length === 0) for (const f of data.files) if (f.type.startsWith("image/")) out.push(f);
  return out;
}

/** The composer of the open room. */
export class Composer {
  /** The composer's element (put it in the page). */
  readonly el: HTMLElement;
  private readonly textarea: HTMLTextAreaElement;
  private readonly editBar: HTMLElement;
  private readonly replyBar: HTMLElement;
  private readonly replyText: HTMLElement;
  private replying: MessageView | null = null;
  private readonly attach: HTMLButtonElement;
  private editing: MessageView | null = null;
  private draftBeforeEdit = "";
  private typing = false;
  private lastTypingSent = 0;
  private idleTimer = 0;

  constructor(private readonly handlers: ComposerHandlers) {
    this.textarea = h("textarea", {
      class: "composer-input",
      rows: "1",
      placeholder: "Write a message…",
      "aria-label": "Message",
      "aria-describedby": "composer-hint",
      oninput: () => this.onInput(),
      onkeydown: (e: KeyboardEvent) => this.onKey(e),
      onpaste: (e: ClipboardEvent) => this.onPaste(e),
    });
    this.editBar = h(
      "div",
      { class: "edit-bar", hidden: true },
      h("span", null, "Editing message"),
      h("button", { type: "button", class: "link", "aria-label": "Cancel editing", onclick: () => this.cancelEdit() }, "Cancel"),
    );
    this.replyText = h("span", { class: "reply-bar-text" });
    this.replyBar = h(
      "div",
      { class: "reply-bar", hidden: true },
      this.replyText,
      h("button", { type: "button", class: "link", "aria-label": "Cancel reply", onclick: () => this.cancelReply() }, "Cancel"),
    );
    this.attach = h(
      "button",
      { type: "button", class: "icon attach", "aria-label": "Attach files", title: "Attach files", onclick: () => handlers.onAttach() },
      icon("attach", 20),
    );
    const send = h(
      "button",
      { type: "button", class: "send", "aria-label": "Send message", onclick: () => this.submit() },
      icon("send", 18),
    );
    this.el = h(
      "div",
      { class: "composer" },
      this.editBar,
      this.replyBar,
      h("div", { class: "composer-row" }, this.attach, this.textarea, send),
      h(
        "p",
        { id: "composer-hint", class: "sr-only" },
        "Enter sends, Shift+Enter adds a line, Up edits your last message. A pasted image is sent with the text as its caption.",
      ),
    );
  }

  /** The current text (to keep as the room's draft). */
  get text(): string {
    return this.editing ? this.draftBeforeEdit : this.textarea.value;
  }

  /** Replaces the text (a room's draft), leaving any edit. */
  setText(text: string): void {
    this.stopTyping();
    this.editing = null;
    show(this.editBar, false);
    this.textarea.value = text;
    this.autosize();
  }

  /** Puts the cursor in the textarea. */
  focus(): void {
    this.textarea.focus();
  }

  /** Enables or disables typing (no room open). */
  setEnabled(on: boolean): void {
    this.textarea.disabled = !on;
    this.attach.disabled = !on;
  }

  /** The text a file sent now would take as its caption (the composer keeps it). */
  peekCaption(): string {
    return this.editing ? "" : outgoingText(this.textarea.value);
  }

  /**
   * Takes the text as the caption of files being sent, leaving the composer
   * empty ("" while an edit is in progress: that text is not a caption).
   */
  takeCaption(): string {
    if (this.editing) return "";
    const text = outgoingText(this.textarea.value);
    this.textarea.value = "";
    this.stopTyping();
    this.autosize();
    return text;
  }

  /** Starts editing `msg`: its text goes into the textarea. */
  startEdit(msg: MessageView): void {
    if (!this.editing) this.draftBeforeEdit = this.textarea.value;
    this.editing = msg;
    show(this.editBar, true);
    this.textarea.value = msg.content;
    this.autosize();
    this.textarea.focus();
    this.textarea.setSelectionRange(msg.content.length, msg.content.length);
  }

  /** Starts a reply to `msg` (`who` wrote it): the next message sent answers it. */
  startReply(msg: MessageView, who: string): void {
    this.replying = msg;
    const what = msg.content || (msg.type === "image" ? "Photo" : msg.type === "file" ? "File" : "");
    this.replyText.textContent = `Replying to ${who}: ${what}`;
    show(this.replyBar, true);
    this.textarea.focus();
  }

  /** Drops the reply being written. */
  cancelReply(): void {
    this.replying = null;
    show(this.replyBar, false);
  }

  /** Leaves editing and brings back the draft. */
  cancelEdit(): void {
    if (!this.editing) return;
    this.editing = null;
    show(this.editBar, false);
    this.textarea.value = this.draftBeforeEdit;
    this.autosize();
    this.textarea.focus();
  }

  /** Says "stopped typing" if "typing" was said. */
  stopTyping(): void {
    clearTimeout(this.idleTimer);
    if (this.typing) {
      this.typing = false;
      this.handlers.onTyping(false);
    }
  }

  private submit(): void {
    const text = outgoingText(this.textarea.value);
    if (!text) return;
    const editing = this.editing;
    if (editing) {
      this.editing = null;
      show(this.editBar, false);
      this.textarea.value = this.draftBeforeEdit;
      if (text !== editing.content) this.handlers.onSaveEdit(editing, text);
    } else {
      this.textarea.value = "";
      this.stopTyping();
      const replyTo = this.replying;
      this.cancelReply();
      this.handlers.onSend(text, replyTo);
    }
    this.autosize();
    this.textarea.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const action = composerAction(e, { text: this.textarea.value, editing: this.editing !== null });
    switch (action) {
      case "send":
        e.preventDefault();
        this.submit();
        break;
      case "none":
        e.preventDefault();
        break;
      case "edit-last": {
        const msg = this.handlers.lastEditable();
        if (msg) {
          e.preventDefault();
          this.startEdit(msg);
        }
        break;
      }
      case "cancel-edit":
        e.preventDefault();
        this.cancelEdit();
        break;
      case "newline":
        // Alt+Enter does nothing in a textarea by itself: insert the break.
        if (e.altKey && !e.shiftKey) {
          e.preventDefault();
          this.textarea.setRangeText("\n", this.textarea.selectionStart, this.textarea.selectionEnd, "end");
          this.autosize();
        }
        break;
      case "default":
        break;
    }
  }

  private onPaste(e: ClipboardEvent): void {
    const images = this.editing ? [] : pastedImages(e.clipboardData);
    const action = pasteAction({
      imageCount: images.length,
      text: e.clipboardData?.getData("text/plain") ?? "",
      editing: this.editing !== null,
    });
    if (action === "default") return;
    e.preventDefault();
    if (action === "images") this.handlers.onPasteImages(images);
    else this.handlers.onPasteClipboard();
  }

  private onInput(): void {
    this.autosize();
    if (this.editing) return;
    if (this.textarea.value.trim() === "") {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (!this.typing || now - this.lastTypingSent > TYPING_RENEW_MS) {
      this.typing = true;
      this.lastTypingSent = now;
      this.handlers.onTyping(true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private autosize(): void {
    const t = this.textarea;
    t.style.height = "auto";
    t.style.height = `${Math.min(t.scrollHeight, MAX_HEIGHT_PX)}px`;
  }
}
