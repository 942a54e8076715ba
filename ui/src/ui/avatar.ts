// A person's picture in a circle: their initials at once, and their
// picture over them once it has loaded (a picture that cannot be read
// leaves the initials). Used by the room list, the chat header and the
// names above messages.

import { avatarFileId } from "../logic/rooms";
import type { ImageSource } from "./attachments";
import { h } from "./dom";

/**
 * Fills `el` (a `.avatar`) with `text` (initials or "#"), a presence `dot`
 * when given, and the picture at `url` over the text when there is one.
 */
export function fillAvatar(el: HTMLElement, text: string, url: string | null, images: ImageSource, dot: Node | null = null): void {
  el.replaceChildren(text, dot ?? "");
  const fileId = avatarFileId(url);
  el.dataset.avatar = fileId ?? "";
  if (!fileId) return;
  const show = (src: string): void => {
    // Still the same picture (a row is refilled as things change).
    if (el.dataset.avatar !== fileId) return;
    const img = h("img", { class: "avatar-img", alt: "", src }) as HTMLImageElement;
    img.addEventListener("error", () => img.remove(), { once: true });
    el.querySelector(".avatar-img")?.remove();
    el.insertBefore(img, el.firstChild);
  };
  const known = images.peek(fileId, true);
  if (known !== undefined) show(known);
  else images.load(fileId, true).then(show, () => undefined);
}

/** A new `.avatar` element (see [`fillAvatar`]). */
export function avatarEl(text: string, url: string | null, images: ImageSource, cls = "avatar", dot: Node | null = null): HTMLElement {
  const el = h("span", { class: cls, "aria-hidden": "true" });
  fillAvatar(el, text, url, images, dot);
  return el;
}
