// How attachments look in a message: an image as a thumbnail button (its box
// sized before the picture arrives, the picture fetched when it scrolls near),
// any other file as a chip with its name, size and a Save button, and a
// pending upload as a progress bar. Also the cache of the pictures' URLs.

import type { Attachment } from "../types";
import { formatSize, isImageMime, thumbBox } from "../logic/files";
import { h } from "./dom";
import { icon } from "./icons";

/** Where pictures come from: the shell's `file_path` as URLs, cached. */
export interface ImageSource {
  /** The URL if it is already known (no flash when a row is redrawn). */
  peek(fileId: string, thumbnail: boolean): string | undefined;
  /** The URL, fetched once (concurrent callers share the fetch). */
  load(fileId: string, thumbnail: boolean): Promise<string>;
}

/** An `ImageSource` over a loader; failures are not kept, so a later call retries. */
export class FileUrls implements ImageSource {
  private readonly done = new Map<string, string>();
  private readonly loading = new Map<string, Promise<string>>();

  constructor(private readonly loader: (fileId: string, thumbnail: boolean) => Promise<string>) {}

  peek(fileId: string, thumbnail: boolean): string | undefined {
    return this.done.get(`${thumbnail ? "t" : "f"}:${fileId}`);
  }

  load(fileId: string, thumbnail: boolean): Promise<string> {
    const key = `${thumbnail ? "t" : "f"}:${fileId}`;
    const known = this.done.get(key);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.loading.get(key);
    if (!p) {
      p = this.loader(fileId, thumbnail).then(
        (url) => {
          this.loading.delete(key);
          this.done.set(key, url);
          return url;
        },
        (err: unknown) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, p);
    }
    return p;
  }
}

/** Whether an attachment is shown as a picture (uploaded, and of a picture type). */
export function showsAsImage(a: Attachment): boolean {
  return a.fileId !== "" && isImageMime(a.mime);
}

/** Whether the thumbnail of a picture is asked for (else the picture itself). */
export function wantsThumbnail(a: Attachment): boolean {
  return Boolean(a.thumbnailUrl);
}

/**
 * A picture's thumbnail: a button of the final size at once, the picture
 * set later by `fillThumb`. Its controls carry `att-btn` (the message list
 * makes those reachable with Tab in the focused row).
 */
export function thumbButton(a: Attachment, onOpen: () => void): HTMLButtonElement {
  const box = thumbBox(a.width, a.height);
  const img = h("img", { alt: "", decoding: "async", draggable: "false" });
  img.addEventListener("load", () => btn.classList.add("loaded"));
  img.addEventListener("error", () => {
    if (img.getAttribute("src")) btn.classList.add("broken");
  });
  const btn = h(
    "button",
    {
      type: "button",
      class: "thumb att-btn",
      tabindex: "-1",
      "aria-label": `Open image ${a.name}`,
      title: a.name,
      dataset: { fileId: a.fileId },
      onclick: (e: MouseEvent) => {
        e.stopPropagation();
        onOpen();
      },
    },
    img,
    h("span", { class: "thumb-broken", "aria-hidden": "true" }, icon("image", 20), "Image unavailable"),
  );
  btn.style.width = `${box.width}px`;
  btn.style.aspectRatio = `${box.width} / ${box.height}`;
  return btn;
}

/** Puts a URL (or a failure) into a thumbnail made by `thumbButton`. */
export function fillThumb(btn: HTMLElement, url: string | null): void {
  const img = btn.querySelector("img");
  if (!img) return;
  if (url === null) btn.classList.add("broken");
  else if (img.getAttribute("src") !== url) img.src = url;
}

/** A file that is not shown as a picture: icon, name, size, and Save once uploaded. */
export function fileChip(a: Attachment, onSave: (() => void) | null): HTMLElement {
  return h(
    "div",
    { class: "file-chip" + (a.fileId === "" ? " local" : "") },
    h("span", { class: "file-icon" }, icon(isImageMime(a.mime) ? "image" : "file", 20)),
    h(
      "span",
      { class: "file-info" },
      h("span", { class: "file-name", title: a.name }, a.name),
      h("span", { class: "file-size" }, formatSize(a.size)),
    ),
    onSave
      ? h(
          "button",
          {
            type: "button",
            class: "icon att-btn",
            tabindex: "-1",
            "aria-label": `Save ${a.name}`,
            title: "Save to Downloads",
            onclick: (e: MouseEvent) => {
              e.stopPropagation();
              onSave();
            },
          },
          icon("download", 18),
        )
      : null,
  );
}

/** The upload bar of a pending message: percent sent, or waiting to start. */
export function uploadBar(percent: number | null, what: string): HTMLElement {
  if (percent === null) return h("div", { class: "upload waiting" }, "Waiting to upload…");
  return h(
    "div",
    { class: "upload" },
    h("progress", { max: "100", value: percent, "aria-label": `Uploading ${what}` }),
    h("span", { class: "upload-pct", "aria-hidden": "true" }, `${percent}%`),
  );
}

/** How a screen reader hears a message's attachments: "image cat.png", "file report.pdf, 1.2 MB". */
export function describeAttachments(list: readonly Attachment[]): string {
  return list.map((a) => (isImageMime(a.mime) ? `image ${a.name}` : `file ${a.name}, ${formatSize(a.size)}`)).join("; ");
}
