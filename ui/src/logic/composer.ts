// What a key press in the composer means: Enter sends, Shift+Enter breaks the
// line, Up in an empty composer edits the user's last message, Escape leaves
// editing. Kept apart from the DOM so the rules are testable.

import type { MessageView } from "../types";

/** The parts of a keydown the composer looks at. */
export interface ComposerKey {
  key: string;
  shiftKey: boolean;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  /** An input method is mid-composition (Enter then picks a candidate). */
  isComposing: boolean;
  /** 229 while an input method holds the key (Safari reports Enter so). */
  keyCode?: number;
}

/** The composer's state when the key is pressed. */
export interface ComposerState {
  /** The textarea's text. */
  text: string;
  /** An edit is in progress. */
  editing: boolean;
  /** A reply is being written (the bar above the composer shows what to). */
  replying?: boolean;
}

/** What to do with a key press. */
export type ComposerAction =
  /** Send the text (or save the edit). */
  | "send"
  /** Let the textarea break the line. */
  | "newline"
  /** Start editing the user's last message. */
  | "edit-last"
  /** Leave editing, restoring the draft. */
  | "cancel-edit"
  /** Escape while replying: back to a plain message. */
  | "cancel-reply"
  /** Swallow the key: Enter with nothing to send. */
  | "none"
  /** Not the composer's business: let the browser have it. */
  | "default";

/** Decides what a keydown in the composer does. */
export function composerAction(key: ComposerKey, state: ComposerState): ComposerAction {
  if (key.isComposing || key.keyCode === 229) return "default";
  if (key.key === "Enter") {
    if (key.shiftKey || key.altKey) return "newline";
    // Enter (or Ctrl/Cmd+Enter) sends; a blank message is not sent, and a
    // blank edit is not saved (deleting is its own action).
    return state.text.trim() === "" ? "none" : "send";
  }
  if (key.key === "ArrowUp" && !key.shiftKey && !key.altKey && !key.ctrlKey && !key.metaKey) {
    return state.text === "" && !state.editing ? "edit-last" : "default";
  }
  if (key.key === "Escape" && state.editing) return "cancel-edit";
  if (key.key === "Escape" && state.replying) return "cancel-reply";
  return "default";
}

/**
 * The message Up edits: the user's newest text message that is not deleted
 * (a pending one too: the shell edits it in the outbox). Null if none.
 */
export function lastEditable(list: readonly MessageView[], myUserId: string): MessageView | null {
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i] as MessageView;
    if (m.senderId === myUserId && m.deletedAt === null && m.type === "text" && m.delivery !== "failed") {
      return m;
    }
  }
  return null;
}

/** The text to send: trailing and leading blank lines dropped, inner ones kept. */
export function outgoingText(text: string): string {
  return text.replace(/^\s*\n/, "").trimEnd();
}

/** What a paste into the composer carries. */
export interface PasteContent {
  /** Image files in the paste (clipboard blobs, copied image files). */
  imageCount: number;
  /** Its plain text ("" when none). */
  text: string;
  /** An edit is in progress. */
  editing: boolean;
  /** A reply is being written (the bar above the composer shows what to). */
  replying?: boolean;
}

/** What to do with a paste. */
export type PasteAction =
  /** Send the pasted image files. */
  | "images"
  /**
   * Nothing usable in the event (WebKitGTK hands no image over): ask the
   * shell to read an image from the OS clipboard.
   */
  | "clipboard"
  /** Let the textarea paste the text. */
  | "default";

/** Decides what a paste into the composer does. While editing, a paste is text for the edit only. */
export function pasteAction(paste: PasteContent): PasteAction {
  if (paste.editing) return "default";
  if (paste.imageCount > 0) return "images";
  if (paste.text === "") return "clipboard";
  return "default";
}
