// Modal dialogs: "New chat" (find a person, open the direct room), "New
// group" (a name and several people), "Join a group" (a pasted invite), a
// yes/no confirmation and a question with a text answer. They use the native
// <dialog>, which traps focus and closes on Escape. `modal` and `userSearch`
// also serve the settings screens (settings.ts, groupsettings.ts).

import type { Api } from "../tauri";
import { errorMessage, rawError } from "../tauri";
import { refusal } from "../logic/errors";
import type { RoomView, User } from "../types";
import { h } from "./dom";
import { icon } from "./icons";
import { rescueToasts } from "./toast";
import { parseInvite, sameServer } from "../logic/community";

/** Opens a modal with a title and content (`wide`: a settings screen); resolves when it closes. */
export function modal(title: string, build: (close: () => void) => Node[], wide = false): { dialog: HTMLDialogElement; closed: Promise<void> } {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h("dialog", { class: wide ? "dialog wide" : "dialog", "aria-labelledby": titleId });
  const close = (): void => dialog.close();
  dialog.append(
    h(
      "div",
      { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "icon", "aria-label": "Close", onclick: close }, icon("close")),
    ),
    ...build(close),
  );
  document.body.appendChild(dialog);
  const closed = new Promise<void>((resolve) =>
    dialog.addEventListener("close", () => {
      rescueToasts(dialog);
      dialog.remove();
      resolve();
    }),
  );
  dialog.showModal();
  return { dialog, closed };
}

/** A titled part of a settings screen (`title`: text, or a heading to keep and change). */
export function settingsSection(title: string | HTMLElement, ...body: Node[]): HTMLElement {
  const heading = typeof title === "string" ? h("h3", null, title) : title;
  return h("section", { class: "settings-section" }, heading, ...body);
}

/**
 * Asks for a line of text (a reason, a password): resolves to it, or null
 * if cancelled. `required`: the answer cannot be blank. With `act`, the
 * answer is acted on before the dialog closes: if that fails, the dialog
 * stays open with the error and what was typed, to try again or cancel.
 */
export async function askDialog(
  title: string,
  text: string,
  opts: {
    label: string;
    yes: string;
    danger?: boolean;
    password?: boolean;
    required?: boolean;
    maxLength?: number;
    act?: (answer: string) => Promise<unknown>;
  },
): Promise<string | null> {
  let answer: string | null = null;
  const error = h("p", { class: "error", role: "alert" });
  const { closed } = modal(title, (close) => {
    const input = h(opts.password ? "input" : "textarea", {
      class: "input",
      "aria-label": opts.label,
      placeholder: opts.label,
      maxlength: String(opts.maxLength ?? 1000),
      ...(opts.password ? { type: "password", autocomplete: "current-password" } : { rows: "3" }),
    }) as HTMLInputElement | HTMLTextAreaElement;
    const ok = h("button", { type: "submit", class: opts.danger ? "danger" : "primary", disabled: opts.required ?? false }, opts.yes);
    const blank = (): boolean => (opts.required ?? false) && input.value.trim() === "";
    input.addEventListener("input", () => {
      ok.disabled = blank();
    });
    queueMicrotask(() => input.focus());
    return [
      h(
        "form",
        {
          class: "group-form",
          onsubmit: async (e: SubmitEvent) => {
            e.preventDefault();
            if (ok.disabled) return;
            const value = input.value;
            if (opts.act) {
              ok.disabled = true;
              error.textContent = "";
              try {
                await opts.act(value);
              } catch (err) {
                error.textContent = errorMessage(err);
                ok.disabled = blank();
                input.focus();
                return;
              }
            }
            answer = value;
            close();
          },
        },
        h("p", null, text),
        input,
        error,
        h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "secondary", onclick: close }, "Cancel"), ok),
      ),
    ];
  });
  await closed;
  return answer;
}

/**
 * Asks a yes/no question; resolves true on yes. Cancel has the focus, so a
 * stray Enter never does the (usually destructive) thing asked about.
 */
export async function confirmDialog(title: string, text: string, yes: string): Promise<boolean> {
  let answer = false;
  const { closed } = modal(title, (close) => {
    const cancel = h("button", { type: "button", class: "secondary", onclick: close }, "Cancel");
    queueMicrotask(() => cancel.focus());
    return [
      h("p", null, text),
      h(
        "div",
        { class: "dialog-actions" },
        cancel,
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: () => {
              answer = true;
              close();
            },
          },
          yes,
        ),
      ),
    ];
  });
  await closed;
  return answer;
}

/** How long typing pauses before a search is sent. */
const SEARCH_DELAY_MS = 250;

/**
 * A search box with results: people matching the query, minus the user.
 * `render` draws one result (a button, or a label with a checkbox); the
 * picker only handles the searching and the keyboard: the first result is
 * highlighted, the arrows move the highlight and Enter presses it (searching
 * at once if typing has not been searched yet).
 */
export function userSearch(
  api: Api,
  myUserId: string,
  render: (u: User) => HTMLElement,
): { el: HTMLElement; input: HTMLInputElement } {
  const status = h("p", { class: "muted", role: "status" }, "Type a name to search.");
  const listId = `people-${Math.random().toString(36).slice(2)}`;
  const results = h("ul", { class: "user-results", id: listId, "aria-label": "People found" });
  let timer = 0;
  let seq = 0;
  let active = -1;
  /** The search in flight (or last run), for an Enter that comes before its answer. */
  let running: Promise<void> = Promise.resolve();
  const items = (): HTMLElement[] => [...results.children] as HTMLElement[];
  const highlight = (i: number): void => {
    const all = items();
    active = all.length ? (i + all.length) % all.length : -1;
    all.forEach((li, n) => li.classList.toggle("active", n === active));
    const pick = all[active]?.firstElementChild;
    if (pick) {
      input.setAttribute("aria-activedescendant", pick.id);
      pick.scrollIntoView?.({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };
  const run = async (query: string): Promise<void> => {
    const mine = ++seq;
    if (!query.trim()) {
      results.replaceChildren();
      highlight(-1);
      status.textContent = "Type a name to search.";
      return;
    }
    status.textContent = "Searching…";
    try {
      const users = (await api.searchUsers(query.trim())).filter((u) => u.userId !== myUserId);
      if (mine !== seq) return;
      results.replaceChildren(
        ...users.map((u, n) => {
          const pick = render(u);
          pick.id ||= `${listId}-${n}`;
          return h("li", { onmouseenter: () => highlight(n) }, pick);
        }),
      );
      highlight(0);
      status.textContent = users.length ? `${users.length} found` : "Nobody found.";
    } catch (err) {
      if (mine === seq) status.textContent = errorMessage(err);
    }
  };
  const input = h("input", {
    type: "search",
    class: "input",
    placeholder: "Search people",
    "aria-label": "Search people",
    "aria-controls": listId,
    autocomplete: "off",
    oninput: () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => {
        timer = 0;
        running = run(input.value);
      }, SEARCH_DELAY_MS);
    },
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        highlight(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter" && (timer || active >= 0)) {
        // Nothing to pick: Enter does what it does in the form around.
        e.preventDefault();
        if (timer) {
          clearTimeout(timer);
          timer = 0;
          running = run(input.value);
        }
        const control = "button:not(:disabled), input:not(:disabled)";
        void running.then(() => items()[active]?.querySelector<HTMLElement>(control)?.click());
      }
    },
  });
  return { el: h("div", { class: "user-search" }, input, status, results), input };
}

/**
 * The users this device knows among `userIds`, by id; never rejects (a
 * user it cannot name is simply absent, and the caller shows a stand-in).
 */
export async function knownUsersById(api: Pick<Api, "knownUsers">, userIds: string[]): Promise<Map<string, User>> {
  const users = await api.knownUsers(userIds).catch(() => [] as User[]);
  return new Map(users.map((u) => [u.userId, u]));
}

/** A person's name and @handle, for lists of people. */
export function userLabel(u: User): HTMLElement {
  return h(
    "span",
    { class: "user-label" },
    h("span", { class: "user-display" }, u.displayName || u.userName),
    h("span", { class: "muted" }, ` @${u.userName}`),
  );
}

/** "New chat": pick a person; resolves to the direct room, or null if cancelled. */
export async function newChatDialog(api: Api, myUserId: string): Promise<RoomView | null> {
  let room: RoomView | null = null;
  const error = h("p", { class: "error", role: "alert" });
  const { closed } = modal("New chat", (close) => {
    const search = userSearch(api, myUserId, (u) =>
      h(
        "button",
        {
          type: "button",
          class: "user-pick",
          "aria-label": `Chat with ${u.displayName || u.userName}`,
          onclick: async (e: MouseEvent) => {
            const btn = e.currentTarget as HTMLButtonElement;
            btn.disabled = true;
            error.textContent = "";
            try {
              room = await api.createDirect(u.userId);
              close();
            } catch (err) {
              error.textContent = errorMessage(err);
              btn.disabled = false;
            }
          },
        },
        userLabel(u),
      ),
    );
    queueMicrotask(() => search.input.focus());
    return [search.el, error];
  });
  await closed;
  return room;
}

/** "New group": a name and members; resolves to the new room, or null if cancelled. */
export async function newGroupDialog(api: Api, myUserId: string): Promise<RoomView | null> {
  let room: RoomView | null = null;
  const picked = new Map<string, User>();
  const error = h("p", { class: "error", role: "alert" });
  const chips = h("ul", { class: "chips", "aria-label": "Members chosen" });
  const name = h("input", {
    type: "text",
    class: "input",
    placeholder: "Group name",
    "aria-label": "Group name",
    maxlength: "100",
    required: true,
    oninput: () => refresh(),
  });
  const create = h("button", { type: "submit", class: "primary", disabled: true }, "Create group");
  const boxes = new Map<string, HTMLInputElement>();
  function refresh(): void {
    chips.replaceChildren(
      ...[...picked.values()].map((u) =>
        h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              class: "chip",
              "aria-label": `Remove ${u.displayName || u.userName}`,
              onclick: () => toggle(u, false),
            },
            `${u.displayName || u.userName} ×`,
          ),
        ),
      ),
    );
    create.disabled = name.value.trim() === "" || picked.size === 0;
  }
  function toggle(u: User, on: boolean): void {
    if (on) picked.set(u.userId, u);
    else picked.delete(u.userId);
    const box = boxes.get(u.userId);
    if (box && box.isConnected) box.checked = on;
    refresh();
  }
  const { closed } = modal("New group", (close) => {
    const search = userSearch(api, myUserId, (u) => {
      const box = h("input", {
        type: "checkbox",
        checked: picked.has(u.userId),
        onchange: () => toggle(u, box.checked),
      });
      boxes.set(u.userId, box);
      return h("label", { class: "user-pick" }, box, userLabel(u));
    });
    const form = h(
      "form",
      {
        class: "group-form",
        onsubmit: async (e: SubmitEvent) => {
          e.preventDefault();
          if (create.disabled) return;
          create.disabled = true;
          error.textContent = "";
          try {
            room = await api.createGroup(name.value.trim(), [...picked.keys()]);
            close();
          } catch (err) {
            error.textContent = errorMessage(err);
            refresh();
          }
        },
      },
      name,
      search.el,
      chips,
      error,
      h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "secondary", onclick: close }, "Cancel"), create),
    );
    queueMicrotask(() => name.focus());
    return [form];
  });
  await closed;
  return room;
}

/**
 * "Join a group": an invite link or code, pasted (or given as `prefill`, a
 * link clicked in a message). A link for another server is refused with
 * its name. Resolves to the group joined, or null if cancelled.
 */
export async function joinDialog(api: Api, server: string, prefill = ""): Promise<RoomView | null> {
  let room: RoomView | null = null;
  const error = h("p", { class: "error", role: "alert" });
  const input = h("input", {
    type: "text",
    class: "input",
    name: "invite",
    placeholder: "Invite link or code",
    "aria-label": "Invite link or code",
    autocomplete: "off",
    value: prefill,
    oninput: () => {
      join.disabled = input.value.trim() === "";
      error.textContent = "";
    },
  });
  const join = h("button", { type: "submit", class: "primary", disabled: prefill.trim() === "" }, "Join");
  const { closed } = modal("Join a group", (close) => {
    queueMicrotask(() => input.focus());
    return [
      h(
        "form",
        {
          class: "group-form",
          onsubmit: async (e: SubmitEvent) => {
            e.preventDefault();
            if (join.disabled) return;
            const invite = parseInvite(input.value);
            if (!invite) {
              error.textContent = "That is not an invite link or code. Paste the whole link you were sent.";
              return;
            }
            if (invite.server && !sameServer(invite.server, server)) {
              error.textContent = `That invite is for another server (${invite.server}); you are signed in to ${server}.`;
              return;
            }
            join.disabled = true;
            error.textContent = "";
            try {
              room = await api.joinRoom(invite.code);
              close();
            } catch (err) {
              error.textContent = joinError(err);
              join.disabled = false;
            }
          },
        },
        h("p", { class: "muted" }, "Paste the invite link (or code) someone sent you."),
        input,
        error,
        h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "secondary", onclick: close }, "Cancel"), join),
      ),
    ];
  });
  await closed;
  return room;
}

/** What a failed join means for the person joining. */
export function joinError(err: unknown): string {
  const code = refusal(rawError(err))?.code;
  if (code === "not_found") return "That invite does not work: it may have expired, been used up or been revoked. Ask for a new one.";
  if (code === "forbidden") return "You cannot join this group: you were banned from it.";
  return `Could not join. ${errorMessage(err)}`;
}
