// Short messages for the user (mostly a command's error), read out by screen
// readers and gone after a few seconds.

import { errorMessage } from "../tauri";
import { h, overlayHost } from "./dom";
import { icon } from "./icons";

const region = (): HTMLElement => {
  let el = document.getElementById("toasts");
  if (!el) el = h("div", { id: "toasts", class: "toasts", role: "alert", "aria-live": "assertive" });
  // Inside the topmost open dialog, if any (the page behind it is inert).
  const host = overlayHost();
  if (el.parentElement !== host) host.appendChild(el);
  return el;
};

/** Moves the toasts out of a dialog that is about to be removed, so they stay up. */
export function rescueToasts(from: HTMLElement): void {
  const el = document.getElementById("toasts");
  if (el && from.contains(el)) document.body.appendChild(el);
}

/** Shows a message for a while; errors stay a little longer. */
export function toast(text: string, kind: "error" | "info" = "error"): void {
  const item = h(
    "div",
    { class: `toast ${kind}` },
    h("span", null, text),
    h("button", { type: "button", class: "icon", "aria-label": "Dismiss", onclick: () => item.remove() }, icon("close", 16)),
  );
  region().appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** Runs `what`, toasting "Could not <doing>: <why>" if it fails; resolves to its value, or undefined. */
export async function attempt<T>(doing: string, what: () => Promise<T>): Promise<T | undefined> {
  try {
    return await what();
  } catch (err) {
    toast(`Could not ${doing}: ${errorMessage(err)}`);
    return undefined;
  }
}
