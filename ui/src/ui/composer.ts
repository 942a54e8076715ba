// The composer under the messages: a growing textarea where Enter sends,
// Shift+Enter breaks the line, Up edits the user's last message and Escape
// leaves editing. It also tells the room when the user types (sparingly:
// "started" at most every few seconds, "stopped" after a pause). The paperclip
// picks files to send; pasting an image sends it (the text becomes its caption).
// Typing `@` offers the room's members (a listbox the arrows move through,
// Enter or Tab picks, Escape closes); the smiley opens the emoji picker.

import type { MessageView } from "../types";
import { composerAction, outgoingText, pasteAction } from "../logic/composer";
import { completeMention, mentionQuery, type MentionChoice, type MentionQuery } from "../logic/mentions";
import { h, show } from "./dom";
import { openEmojiPicker } from "./emoji";
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
  /** The text changed (not while editing a sent message): keep it as the room's draft. */
  onDraft?(text: string): void;
  /** The attach button was pressed: pick files and send them. */
  onAttach(): void;
  /** Images were pasted: send them. */
  onPasteImages(images: File[]): void;
  /** A paste carried neither images nor text: send the OS clipboard's image, if any. */
  onPasteClipboard(): void;
  /** Who `@prefix` may name in the open room. */
  mentionChoices(prefix: string): MentionChoice[];
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
  private readonly emojiButton: HTMLButtonElement;
  private editing: MessageView | null = null;
  private draftBeforeEdit = "";
  private typing = false;
  private lastTypingSent = 0;
  private idleTimer = 0;
  /** The `@` completion list, when open: what it completes and its choices. */
  private readonly mentionList: HTMLElement;
  private mention: { query: MentionQuery; choices: MentionChoice[]; active: number } | null = null;

  constructor(private readonly handlers: ComposerHandlers) {
    this.textarea = h("textarea", {
      class: "composer-input",
      rows: "1",
      placeholder: "Write a message…",
      "aria-label": "Message",
      "aria-describedby": "composer-hint",
      "aria-autocomplete": "list",
      "aria-controls": "mention-list",
      oninput: () => this.onInput(),
      onkeydown: (e: KeyboardEvent) => this.onKey(e),
      onpaste: (e: ClipboardEvent) => this.onPaste(e),
      onclick: () => this.updateMention(),
      // Leaving the box closes the list (a moment later, so a click on a
      // choice lands first); coming back before then keeps it.
      onblur: () =>
        window.setTimeout(() => {
          if (document.activeElement !== this.textarea) this.closeMention();
        }, 150),
    });
    this.mentionList = h("ul", { id: "mention-list", class: "mention-list", role: "listbox", "aria-label": "People to mention", hidden: true });
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
    const emoji: HTMLButtonElement = h(
      "button",
      {
        type: "button",
        class: "icon emoji-btn",
        "aria-label": "Insert emoji",
        title: "Insert emoji",
        onclick: () => void openEmojiPicker(emoji, "Insert emoji", (e) => this.insert(e)),
      },
      icon("smile", 20),
    );
    this.emojiButton = emoji;
    this.el = h(
      "div",
      { class: "composer" },
      this.editBar,
      this.replyBar,
      this.mentionList,
      h("div", { class: "composer-row" }, this.attach, this.textarea, emoji, send),
      h(
        "p",
        { id: "composer-hint", class: "sr-only" },
        "Enter sends, Shift+Enter adds a line, Up edits your last message, @ mentions someone. A pasted image is sent with the text as its caption.",
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
    this.emojiButton.disabled = !on;
  }

  /** Inserts text at the caret (an emoji from the picker). */
  insert(text: string): void {
    const t = this.textarea;
    t.setRangeText(text, t.selectionStart, t.selectionEnd, "end");
    this.autosize();
    t.focus();
    this.onInput();
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
    if (this.mention && this.onMentionKey(e)) {
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const action = composerAction(e, { text: this.textarea.value, editing: this.editing !== null, replying: this.replying !== null });
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
      case "cancel-reply":
        e.preventDefault();
        this.cancelReply();
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
    this.updateMention();
    if (this.editing) return;
    this.handlers.onDraft?.(this.textarea.value);
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

  /** Opens, refreshes or closes the `@` list for the word at the caret. */
  private updateMention(): void {
    const t = this.textarea;
    const query = t.selectionStart === t.selectionEnd ? mentionQuery(t.value, t.selectionStart) : null;
    const choices = query ? this.handlers.mentionChoices(query.prefix) : [];
    if (!query || choices.length === 0) {
      this.closeMention();
      return;
    }
    const keep = this.mention?.choices[this.mention.active]?.word;
    const active = Math.max(0, choices.findIndex((c) => c.word === keep));
    this.mention = { query, choices, active };
    this.renderMention();
  }

  private renderMention(): void {
    const m = this.mention;
    if (!m) return;
    this.mentionList.replaceChildren(
      ...m.choices.map((c, i) =>
        h(
          "li",
          {
            id: `mention-${i}`,
            role: "option",
            class: "mention-choice" + (i === m.active ? " active" : ""),
            "aria-selected": i === m.active ? "true" : "false",
            // Keep the textarea's focus while clicking a choice.
            onmousedown: (e: MouseEvent) => e.preventDefault(),
            onclick: () => this.pickMention(i),
          },
          h("span", { class: "mention-word" }, `@${c.word}`),
          c.label !== c.word ? h("span", { class: "mention-label" }, c.label) : null,
        ),
      ),
    );
    show(this.mentionList, true);
    this.textarea.setAttribute("aria-activedescendant", `mention-${m.active}`);
  }

  private closeMention(): void {
    if (!this.mention) return;
    this.mention = null;
    show(this.mentionList, false);
    this.mentionList.replaceChildren();
    this.textarea.removeAttribute("aria-activedescendant");
  }

  private pickMention(i: number): void {
    const m = this.mention;
    const choice = m?.choices[i];
    if (!m || !choice) return;
    const done = completeMention(this.textarea.value, m.query, choice);
    this.textarea.value = done.text;
    this.textarea.setSelectionRange(done.caret, done.caret);
    this.closeMention();
    this.autosize();
    this.textarea.focus();
  }

  /** Keys while the `@` list is open; true when the key was the list's. */
  private onMentionKey(e: KeyboardEvent): boolean {
    const m = this.mention;
    if (!m) return false;
    const n = m.choices.length;
    switch (e.key) {
      case "ArrowDown":
        m.active = (m.active + 1) % n;
        this.renderMention();
        return true;
      case "ArrowUp":
        m.active = (m.active - 1 + n) % n;
        this.renderMention();
        return true;
      case "Enter":
      case "Tab":
        if (e.shiftKey) return false;
        this.pickMention(m.active);
        return true;
      case "Escape":
        this.closeMention();
        return true;
      default:
        return false;
    }
  }

  private autosize(): void {
    const t = this.textarea;
    t.style.height = "auto";
    t.style.height = `${Math.min(t.scrollHeight, MAX_HEIGHT_PX)}px`;
  }
}
