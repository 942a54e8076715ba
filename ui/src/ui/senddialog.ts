// The step between choosing files and sending them: a dialog that shows
// each file (a picture's preview, else its name and size), takes a caption
// (the composer's text to start with) and sends only when the user says so.
// Picked, dropped and pasted files all pass through it.

import type { FilePreview } from "../types";
import { formatSize } from "../logic/files";
import { errorMessage } from "../tauri";
import { modal } from "./dialogs";
import { h } from "./dom";
import { icon } from "./icons";

/** One file to show: its name now, its size and preview when known. */
export interface FileToSend {
  name: string;
  /** Its size and picture; rejects when the file cannot be read. */
  preview: Promise<Omit<FilePreview, "name">>;
}

/** The longest caption the composer takes (the server's limit for a message). */
const MAX_CAPTION = 4000;

/**
 * Asks before sending `files` to `roomName`; resolves to the caption when
 * the user presses Send (or Enter in the caption), null when they cancel.
 */
export async function sendFilesDialog(roomName: string, files: FileToSend[], caption: string): Promise<string | null> {
  let answer: string | null = null;
  const one = files.length === 1 ? files[0] : undefined;
  const title = one ? `Send ${one.name}` : `Send ${files.length} files`;
  const { closed } = modal(title, (close) => {
    const items = files.map((f) => fileItem(f));
    const box = h("textarea", {
      class: "input caption",
      rows: "2",
      maxlength: String(MAX_CAPTION),
      "aria-label": "Caption",
      placeholder: "Add a caption (optional)",
    }) as HTMLTextAreaElement;
    box.value = caption;
    const send = (): void => {
      answer = box.value;
      close();
    };
    box.addEventListener("keydown", (e) => {
      // keyCode 229: an input method is still composing (Safari, WKWebView).
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        send();
      }
    });
    queueMicrotask(() => {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    });
    return [
      h("p", { class: "muted" }, `To ${roomName}`),
      h("ul", { class: "send-files", "aria-label": "Files to send" }, ...items),
      box,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", class: "secondary", onclick: close }, "Cancel"),
        h("button", { type: "button", class: "primary", onclick: send }, "Send"),
      ),
    ];
  });
  await closed;
  return answer;
}

/** A file in the list: a generic icon until its preview comes, then the picture or the size. */
function fileItem(f: FileToSend): HTMLElement {
  const visual = h("span", { class: "send-file-icon", "aria-hidden": "true" }, icon("attach", 24));
  const detail = h("span", { class: "muted send-file-size" }, "…");
  const item = h("li", { class: "send-file" }, visual, h("span", { class: "send-file-text" }, h("span", { class: "send-file-name" }, f.name), detail));
  f.preview.then(
    (p) => {
      detail.textContent = formatSize(p.size);
      if (p.thumbnail) visual.replaceWith(h("img", { class: "send-file-thumb", src: p.thumbnail, alt: `Preview of ${f.name}` }));
    },
    (err) => {
      detail.textContent = errorMessage(err);
      item.classList.add("unreadable");
    },
  );
  return item;
}
