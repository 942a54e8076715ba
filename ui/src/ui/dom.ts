// A tiny element builder, so views read as markup without a framework.

/** A child: a node, text, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

/** Attributes and listeners: `onclick` etc. take functions, `class` a string. */
export type Props = Record<string, unknown>;

/** Creates an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  append(el, children);
  return el;
}

/** Applies props to an element (see `h`). */
export function setProps(el: HTMLElement, props: Props): void {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "dataset" && typeof value === "object") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) el.dataset[k] = String(v);
    } else if (key === "value" || key === "checked" || key === "disabled" || key === "hidden") {
      (el as unknown as Record<string, unknown>)[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Appends children, skipping empty ones. */
export function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Sets an element's text only if it changed (no needless layout). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Shows or hides an element. */
export function show(el: HTMLElement, visible: boolean): void {
  if (el.hidden === visible) el.hidden = !visible;
}

/**
 * Where a floating element (a toast, a menu) must go to be usable: the
 * topmost open modal dialog, which makes the rest of the page inert, or
 * else the page itself.
 */
export function overlayHost(): HTMLElement {
  const open = document.querySelectorAll<HTMLDialogElement>("dialog[open]");
  return open[open.length - 1] ?? document.body;
}
