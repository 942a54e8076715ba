// The quick switcher (Ctrl/Cmd+K): type part of a chat's name or a person's,
// the arrows move through what matches, Enter opens it. Chats come from the
// room list at once; people without a chat yet come from the server's user
// search a moment after typing stops, and Enter on one opens a new chat.

import type { Api } from "../tauri";
import { errorMessage } from "../tauri";
import type { RoomView, User } from "../types";
import { directPartner } from "../logic/rooms";
import { matchRooms } from "../logic/keys";
import { modal } from "./dialogs";
import { h } from "./dom";

/** How long typing pauses before people are searched. */
const PEOPLE_DELAY_MS = 250;
/** At most this many chats are listed. */
const MAX_ROOMS = 20;

/** What the switcher offers. */
type Choice = { kind: "room"; roomId: string; label: string; detail: string } | { kind: "person"; user: User; label: string; detail: string };

/**
 * Opens the quick switcher; resolves to the room to show (an existing chat,
 * or the direct chat just made with a person), or null if cancelled.
 */
export async function quickSwitcher(api: Pick<Api, "searchUsers" | "createDirect">, rooms: readonly RoomView[], myUserId: string): Promise<string | null> {
  let picked: string | null = null;
  const id = `switch-${Math.random().toString(36).slice(2)}`;
  const status = h("p", { class: "muted switcher-status", role: "status" });
  const list = h("ul", { class: "switcher-list", role: "listbox", id: `${id}-list`, "aria-label": "Chats and people" });
  let choices: Choice[] = [];
  let people: User[] = [];
  let active = 0;
  let timer = 0;
  let run = 0;
  const { closed } = modal("Go to a chat", (close) => {
    const input = h("input", {
      type: "text",
      class: "input",
      role: "combobox",
      "aria-label": "Chat or person",
      "aria-controls": `${id}-list`,
      "aria-expanded": "true",
      "aria-autocomplete": "list",
      placeholder: "Chat or person",
      autocomplete: "off",
      spellcheck: "false",
    }) as HTMLInputElement;
    const choose = async (c: Choice | undefined): Promise<void> => {
      if (!c) return;
      if (c.kind === "room") {
        picked = c.roomId;
        close();
        return;
      }
      status.textContent = `Opening a chat with ${c.label}…`;
      try {
        picked = (await api.createDirect(c.user.userId)).roomId;
        close();
      } catch (err) {
        status.textContent = errorMessage(err);
      }
    };
    const draw = (): void => {
      const q = input.value;
      const found = matchRooms(rooms, myUserId, q).slice(0, MAX_ROOMS);
      const partners = new Set(found.flatMap((m) => (m.room.type === "direct" ? [directPartner(m.room, myUserId)?.userId] : [])));
      const withChat = new Set(rooms.flatMap((r) => (r.type === "direct" ? [directPartner(r, myUserId)?.userId] : [])));
      choices = [
        ...found.map((m): Choice => ({ kind: "room", roomId: m.room.roomId, label: m.title, detail: m.room.type === "group" ? "Group" : "Chat" })),
        ...people
          .filter((u) => u.userId !== myUserId && !partners.has(u.userId) && !withChat.has(u.userId))
          .map((u): Choice => ({ kind: "person", user: u, label: u.displayName || u.userName, detail: `@${u.userName} · new chat` })),
      ];
      active = Math.min(active, Math.max(0, choices.length - 1));
      list.replaceChildren(
        ...choices.map((c, n) =>
          h(
            "li",
            {
              id: `${id}-${n}`,
              role: "option",
              class: n === active ? "switcher-item active" : "switcher-item",
              "aria-selected": String(n === active),
              onmousedown: (e: MouseEvent) => e.preventDefault(),
              onclick: () => void choose(c),
            },
            h("span", { class: "switcher-label" }, c.label),
            h("span", { class: "muted" }, c.detail),
          ),
        ),
      );
      if (choices.length) input.setAttribute("aria-activedescendant", `${id}-${active}`);
      else input.removeAttribute("aria-activedescendant");
      list.children[active]?.scrollIntoView?.({ block: "nearest" });
      if (!status.textContent?.startsWith("Opening")) {
        status.textContent = choices.length ? `${choices.length} found` : q.trim() ? "No chats or people match." : "No chats yet.";
      }
    };
    input.addEventListener("input", () => {
      active = 0;
      people = [];
      draw();
      window.clearTimeout(timer);
      const q = input.value.trim();
      if (!q) return;
      const mine = ++run;
      timer = window.setTimeout(async () => {
        try {
          const found = await api.searchUsers(q);
          if (mine !== run) return;
          people = found;
          draw();
        } catch {
          // People are a bonus: the chats are still listed.
        }
      }, PEOPLE_DELAY_MS);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (choices.length) active = (active + (e.key === "ArrowDown" ? 1 : -1) + choices.length) % choices.length;
        draw();
      } else if (e.key === "Enter") {
        e.preventDefault();
        void choose(choices[active]);
      }
    });
    draw();
    queueMicrotask(() => input.focus());
    return [input, status, list];
  });
  await closed;
  window.clearTimeout(timer);
  return picked;
}

/** The shortcuts, as the help dialog lists them (`mac`: Cmd instead of Ctrl). */
export function shortcutList(mac: boolean): [string, string][] {
  const cmd = mac ? "⌘" : "Ctrl+";
  return [
    [`${cmd}K`, "Go to a chat or a person"],
    [`${cmd}F`, "Search the open chat’s messages (the chip in the box: every chat)"],
    ["Alt+↑ / Alt+↓", "The chat above or below in the list"],
    ["Enter", "Send the message"],
    ["Shift+Enter", "A new line in the message"],
    ["↑ (in an empty message box)", "Edit your last message"],
    ["Esc", "Cancel a reply or an edit, close a dialog; back to the list on a narrow window"],
    ["↑ / ↓ in the messages", "Move between messages; Enter opens a message's actions"],
    [`${cmd}/ or F1`, "This list"],
  ];
}

/** The list of keyboard shortcuts. */
export async function shortcutsDialog(mac: boolean): Promise<void> {
  const { closed } = modal("Keyboard shortcuts", () => [
    h(
      "table",
      { class: "shortcuts" },
      h("tbody", null, ...shortcutList(mac).map(([keys, what]) => h("tr", null, h("th", { scope: "row" }, h("kbd", null, keys)), h("td", null, what)))),
    ),
  ]);
  await closed;
}
