// The full-size image viewer: a modal overlay with the picture (the cached
// thumbnail first, the full picture when it has arrived), its name and size,
// Save and Close. Escape, Close, or a click on the picture or the backdrop
// closes it, and focus returns where it was.

import type { Attachment } from "../types";
import { errorMessage } from "../tauri";
import { formatSize } from "../logic/files";
import type { ImageSource } from "./attachments";
import { h } from "./dom";
import { icon } from "./icons";
import { rescueToasts } from "./toast";

let openViewer: HTMLDialogElement | null = null;

/** Opens the viewer for an uploaded picture; `save` copies it to Downloads. */
export function openImageViewer(att: Attachment, images: ImageSource, save: (att: Attachment) => Promise<void>): void {
  openViewer?.close();
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const status = h("p", { class: "viewer-status", role: "status" }, "Loading…");
  const img = h("img", { class: "viewer-img", alt: att.name, hidden: true, draggable: "false" });
  const saveBtn = h(
    "button",
    {
      type: "button",
      class: "secondary viewer-save",
      title: "Save to Downloads",
      onclick: async () => {
        saveBtn.disabled = true;
        try {
          await save(att);
        } finally {
          saveBtn.disabled = false;
        }
      },
    },
    icon("download", 18),
    "Save",
  );
  const dialog = h(
    "dialog",
    { class: "viewer", "aria-label": `Image ${att.name}` },
    h(
      "div",
      { class: "viewer-bar" },
      h("div", { class: "viewer-title" }, h("span", { class: "viewer-name" }, att.name), h("span", { class: "muted" }, formatSize(att.size))),
      saveBtn,
      h("button", { type: "button", class: "icon", "aria-label": "Close image", onclick: () => dialog.close() }, icon("close")),
    ),
    h("div", { class: "viewer-stage" }, img, status),
  );
  // A click anywhere but the bar (the picture, the dark around it) closes.
  dialog.addEventListener("click", (e) => {
    if (!(e.target as Element).closest(".viewer-bar")) dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (openViewer === dialog) openViewer = null;
    rescueToasts(dialog);
    dialog.remove();
    if (returnTo?.isConnected) returnTo.focus();
  });
  document.body.appendChild(dialog);
  openViewer = dialog;
  dialog.showModal();
  saveBtn.focus();

  const show = (url: string): void => {
    img.src = url;
    img.hidden = false;
  };
  // The thumbnail is on screen already: show it at once, enlarged, while the
  // full picture comes.
  const quick = images.peek(att.fileId, false) ?? images.peek(att.fileId, true);
  if (quick) show(quick);
  images.load(att.fileId, false).then(
    (url) => {
      if (!dialog.open) return;
      // Swap only once the full picture is decoded, so it never flashes empty.
      const full = new Image();
      full.onload = () => {
        if (!dialog.open) return;
        show(url);
        status.hidden = true;
      };
      full.onerror = () => {
        status.textContent = "Could not show the image.";
      };
      full.src = url;
    },
    (err: unknown) => {
      if (dialog.open) status.textContent = `Could not open the image: ${errorMessage(err)}`;
    },
  );
}
