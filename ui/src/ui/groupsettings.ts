// A group's settings (opened from its header): its name and description,
// its members with their roles (and, for those who run the group, making
// admins, removing and banning), invite links to copy or revoke, the bans,
// and leaving. And a person's profile (from a direct chat's header or a
// group's member list): their picture and name, a message, block or unblock.
// The app offers only what the server allows the user (logic/community.ts);
// each change goes to the server and the room comes back as it now stands.

import type { Api } from "../tauri";
import type { MemberView, RoomInvite, RoomView, User } from "../types";
import { INVITE_EXPIRY, canManage, inviteLink, inviteSummary, memberActions, myRole, roleLabel, sortMembers } from "../logic/community";
import { initials, memberName } from "../logic/rooms";
import type { ImageSource } from "./attachments";
import { avatarEl, fillAvatar } from "./avatar";
import { askDialog, confirmDialog, knownUsersById, modal, settingsSection, userLabel, userSearch } from "./dialogs";
import { h } from "./dom";
import { icon } from "./icons";
import { openMenu, type MenuItem } from "./menu";
import { attempt, toast } from "./toast";

/** What the group and profile screens need from the app. */
export interface PeopleContext {
  api: Api;
  myUserId: string;
  server: string;
  images: ImageSource;
  /** The room as the app knows it now (undefined: the user is no longer in it). */
  room(roomId: string): RoomView | undefined;
  /** Opens a room (after "Send message" on a profile). */
  openRoom(roomId: string): void;
  /** Calls `changed` whenever the room changes (someone joined, a new name); returns the unsubscribe. */
  watch(roomId: string, changed: () => void): () => void;
}

/** Opens a group's settings; resolves when it closes. */
export async function groupSettingsDialog(ctx: PeopleContext, roomId: string): Promise<void> {
  const first = ctx.room(roomId);
  if (!first) return;
  let unwatch = (): void => undefined;
  const { closed } = modal(
    "Group settings",
    (close) => {
      const parts: { render(room: RoomView): void; el: HTMLElement }[] = [];
      const refresh = (room?: RoomView | void): void => {
        const now = room ?? ctx.room(roomId);
        if (!now) {
          close();
          return;
        }
        for (const p of parts) p.render(now);
      };
      parts.push(aboutPart(ctx, refresh), membersPart(ctx, refresh), invitesPart(ctx, roomId), bansPart(ctx, roomId));
      const leave = h(
        "button",
        {
          type: "button",
          class: "danger-outline",
          onclick: async () => {
            const room = ctx.room(roomId);
            const owner = room && myRole(room, ctx.myUserId) === "owner" && room.members.length > 1;
            const text = owner
              ? "You own this group: it passes to its longest-standing admin (or member). To choose who, make them the owner first, from their menu in Members."
              : "You will stop getting its messages. To come back, someone must add you or send you an invite.";
            if (!(await confirmDialog("Leave group", `Leave “${room?.name ?? "this group"}”? ${text}`, "Leave group"))) return;
            if ((await attempt("leave the group", () => ctx.api.removeMember(roomId, ctx.myUserId).then(() => true))) === true) close();
          },
        },
        "Leave group",
      );
      refresh(first);
      // Members join, leave and change while it is open: it follows.
      unwatch = ctx.watch(roomId, () => refresh());
      return [...parts.map((p) => p.el), settingsSection("Leave", h("div", { class: "hbox" }, leave))];
    },
    true,
  );
  await closed;
  unwatch();
}

/** Name and description: editable by the owner and admins. */
function aboutPart(ctx: PeopleContext, refresh: (room?: RoomView) => void): { el: HTMLElement; render(room: RoomView): void } {
  const name = h("input", { type: "text", class: "input", name: "groupName", "aria-label": "Group name", maxlength: "100" });
  const description = h("textarea", { class: "input", name: "groupDescription", "aria-label": "Description", rows: "2", maxlength: "1000", placeholder: "What the group is for" });
  const save = h("button", { type: "submit", class: "primary", disabled: true }, "Save");
  let room: RoomView | null = null;
  /** Fields the user changed and has not saved: a room change does not overwrite them. */
  const edited = new Set<HTMLElement>();
  const dirty = (): void => {
    save.disabled = !room || name.value.trim() === "" || (name.value.trim() === room.name && description.value.trim() === room.description);
  };
  for (const field of [name, description]) {
    field.addEventListener("input", () => {
      edited.add(field);
      dirty();
    });
  }
  const form = h(
    "form",
    {
      class: "group-form",
      onsubmit: async (e: SubmitEvent) => {
        e.preventDefault();
        if (!room || save.disabled) return;
        const r = room;
        save.disabled = true;
        const n = name.value.trim();
        const d = description.value.trim();
        const next = await attempt("save the group", () => ctx.api.updateRoom(r.roomId, n === r.name ? null : n, d === r.description ? null : d));
        if (next) {
          edited.clear();
          toast("Saved", "info");
          refresh(next);
        } else dirty();
      },
    },
    name,
    description,
    h("div", { class: "dialog-actions" }, save),
  );
  return {
    el: settingsSection("About", form),
    render(r: RoomView) {
      room = r;
      const manage = canManage(r, ctx.myUserId);
      if (!edited.has(name)) name.value = r.name;
      if (!edited.has(description)) description.value = r.description;
      name.readOnly = !manage;
      description.readOnly = !manage;
      save.hidden = !manage;
      dirty();
    },
  };
}

/** The members, with what the user may do to each. */
function membersPart(ctx: PeopleContext, refresh: (room?: RoomView) => void): { el: HTMLElement; render(room: RoomView): void } {
  const heading = h("h3", null, "Members");
  const list = h("ul", { class: "settings-list members", "aria-label": "Members" });
  const add = h("button", { type: "button", class: "secondary", hidden: true }, "Add people");
  let room: RoomView | null = null;
  /** What the list shows now (see `render`). */
  let shown = "";
  add.addEventListener("click", async () => {
    if (!room) return;
    const r = room;
    const picked = await addPeopleDialog(ctx.api, ctx.myUserId, new Set(r.members.map((m) => m.userId)));
    if (picked.length === 0) return;
    const next = await attempt("add them", () => ctx.api.addMembers(r.roomId, picked));
    if (next) refresh(next);
  });
  const row = (r: RoomView, m: MemberView): HTMLElement => {
    const name = memberName(m);
    const me = m.userId === ctx.myUserId;
    const can = memberActions(r, ctx.myUserId, m);
    const items: MenuItem[] = [{ label: "Profile", run: () => void profileDialog(ctx, m.userId, m) }];
    if (can.changeRole) {
      if (m.role === "member") items.push({ label: "Make admin", run: () => void setRole(r, m, "admin") });
      if (m.role === "admin") {
        items.push({
          label: "Make plain member",
          run: async () => {
            if (await confirmDialog("Make plain member", `Make ${name} a plain member? The invite links ${name} made stop working.`, "Make plain member")) await setRole(r, m, "member");
          },
        });
      }
      items.push({
        label: "Make owner…",
        run: async () => {
          if (await confirmDialog("Hand the group over", `Make ${name} the owner of “${r.name}”? You become an admin.`, "Make owner")) await setRole(r, m, "owner");
        },
      });
    }
    if (can.remove) {
      items.push({
        label: "Remove from group",
        danger: true,
        separated: true,
        run: async () => {
          if (!(await confirmDialog("Remove member", `Remove ${name} from “${r.name}”? They can come back if someone adds them or sends an invite.`, "Remove"))) return;
          if ((await attempt("remove them", () => ctx.api.removeMember(r.roomId, m.userId).then(() => true))) === true) refresh();
        },
      });
      items.push({
        label: "Ban…",
        danger: true,
        run: async () => {
          const reason = await askDialog("Ban from group", `Ban ${name} from “${r.name}”? They are removed and cannot come back, by an invite or by being added, until unbanned.`, {
            label: "Reason (optional, seen by the group's admins)",
            yes: "Ban",
            danger: true,
            act: (why) => ctx.api.ban(r.roomId, m.userId, true, why.trim() || null),
          });
          if (reason === null) return;
          toast(`${name} is banned from the group`, "info");
          refresh();
        },
      });
    }
    const more: HTMLButtonElement = h(
      "button",
      { type: "button", class: "icon", "aria-label": `Actions for ${name}`, "aria-haspopup": "menu", onclick: () => openMenu(more, items, `Actions for ${name}`) },
      icon("more"),
    );
    return h(
      "li",
      { dataset: { userId: m.userId } },
      avatarEl(initials(name), m.avatarUrl, ctx.images),
      h("span", { class: "grow" }, h("strong", null, name), me ? h("span", { class: "muted" }, " (you)") : null, m.userName ? h("span", { class: "muted" }, ` @${m.userName}`) : null),
      h("span", { class: `role role-${m.role}` }, roleLabel(m.role)),
      me ? null : more,
    );
  };
  const setRole = async (r: RoomView, m: MemberView, role: "owner" | "admin" | "member"): Promise<void> => {
    const next = await attempt("change the role", () => ctx.api.setMemberRole(r.roomId, m.userId, role));
    if (next) refresh(next);
  };
  return {
    el: settingsSection(heading, list, h("div", { class: "hbox" }, add)),
    render(r: RoomView) {
      room = r;
      heading.textContent = `Members (${r.members.length})`;
      add.hidden = !canManage(r, ctx.myUserId);
      // Receipts and presence change the room too: redraw only for what the
      // list shows, and give focus back to the row that had it.
      const sorted = sortMembers(r.members);
      const key = JSON.stringify([myRole(r, ctx.myUserId), sorted.map((m) => [m.userId, m.role, m.displayName, m.userName, m.avatarUrl])]);
      if (key === shown) return;
      shown = key;
      const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("li[data-user-id]")?.dataset.userId;
      list.replaceChildren(...sorted.map((m) => row(r, m)));
      if (focused) list.querySelector<HTMLElement>(`li[data-user-id="${CSS.escape(focused)}"] button`)?.focus();
    },
  };
}

/**
 * A list the server keeps for a group's owner and admins (invite links,
 * bans), hidden from everyone else. It is read when shown, again when the
 * members change (a join uses a link up, a ban removes a member) and after
 * a change made here; an answer to a read older than the newest is dropped.
 * `show` draws the items (`stale()`: a newer read started meanwhile).
 */
function managersList<T>(
  ctx: PeopleContext,
  el: HTMLElement,
  status: HTMLElement,
  what: string,
  empty: string,
  read: () => Promise<T[]>,
  show: (items: T[], stale: () => boolean) => Promise<void> | void,
): { load(): Promise<void>; render(room: RoomView): void } {
  let members = -1;
  let reads = 0;
  const load = async (): Promise<void> => {
    const mine = ++reads;
    const stale = (): boolean => mine !== reads;
    const items = await attempt(`read ${what}`, read);
    if (stale()) return;
    if (!items) {
      status.textContent = "Needs a connection to the server.";
      return;
    }
    status.textContent = items.length ? "" : empty;
    await show(items, stale);
  };
  return {
    load,
    render(r: RoomView) {
      const manage = canManage(r, ctx.myUserId);
      el.hidden = !manage;
      if (manage && r.members.length !== members) void load();
      members = manage ? r.members.length : -1;
    },
  };
}

/** Invite links (the owner and admins): make one, copy it, revoke it. */
function invitesPart(ctx: PeopleContext, roomId: string): { el: HTMLElement; render(room: RoomView): void } {
  const list = h("ul", { class: "settings-list invites", "aria-label": "Invite links" });
  const status = h("p", { class: "muted", role: "status" });
  const uses = h(
    "select",
    { class: "input", "aria-label": "How many people may use it" },
    ...[null, 1, 5, 10, 25, 100].map((n) => h("option", { value: n === null ? "" : String(n) }, n === null ? "No limit on uses" : `${n} ${n === 1 ? "use" : "uses"}`)),
  );
  const expiry = h(
    "select",
    { class: "input", "aria-label": "When it expires" },
    ...INVITE_EXPIRY.map((e) => h("option", { value: e.seconds === null ? "" : String(e.seconds) }, e.label)),
  );
  const create = h("button", { type: "button", class: "primary" }, "Create invite link");
  const el = settingsSection("Invite links", h("p", { class: "muted" }, "Anyone with a link can join this group until it expires, is used up or you revoke it."), h("div", { class: "hbox" }, uses, expiry, create), status, list);
  const { load, render } = managersList(ctx, el, status, "the invite links", "No invite links yet.", () => ctx.api.invites(roomId), (invites) => {
    list.replaceChildren(...invites.map((inv, i) => row(inv, i + 1)));
  });
  /** One link, the `n`th listed (its controls' labels say which). */
  const row = (inv: RoomInvite, n: number): HTMLElement => {
    const link = inviteLink(ctx.server, inv.code);
    const field = h("input", { type: "text", class: "input invite-link", readonly: true, value: link, "aria-label": `Invite link ${n}`, onfocus: () => field.select() });
    return h(
      "li",
      { class: "invite" },
      h("div", { class: "grow" }, field, h("p", { class: "muted" }, inviteSummary(inv))),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Copy invite link ${n}`,
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(link);
              toast("Invite link copied", "info");
            } catch {
              field.select();
              toast("Could not copy: select the link and copy it yourself");
            }
          },
        },
        "Copy",
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Revoke invite link ${n}`,
          onclick: async () => {
            if (!(await confirmDialog("Revoke invite link", "Revoke this link? Nobody else can join with it; people who joined stay.", "Revoke"))) return;
            await attempt("revoke the link", () => ctx.api.revokeInvite(inv.code));
            await load();
          },
        },
        "Revoke",
      ),
    );
  };
  create.addEventListener("click", async () => {
    create.disabled = true;
    const inv = await attempt("create an invite link", () => ctx.api.createInvite(roomId, uses.value ? Number(uses.value) : null, expiry.value ? Number(expiry.value) : null));
    create.disabled = false;
    if (inv) await load();
  });
  return { el, render };
}

/** The bans (the owner and admins): who, why, and lifting them. */
function bansPart(ctx: PeopleContext, roomId: string): { el: HTMLElement; render(room: RoomView): void } {
  const list = h("ul", { class: "settings-list bans", "aria-label": "Banned people" });
  const status = h("p", { class: "muted", role: "status" });
  const el = settingsSection("Banned", status, list);
  const { load, render } = managersList(ctx, el, status, "the bans", "Nobody is banned.", () => ctx.api.bans(roomId), async (bans, stale) => {
    const users = await knownUsersById(ctx.api, bans.map((b) => b.userId));
    if (stale()) return;
    list.replaceChildren(
      ...bans.map((b) => {
        const u = users.get(b.userId);
        const name = u ? u.displayName || u.userName : "Someone";
        return h(
          "li",
          null,
          h("span", { class: "grow" }, h("strong", null, name), u ? h("span", { class: "muted" }, ` @${u.userName}`) : null, b.reason ? h("span", { class: "muted" }, ` · “${b.reason}”`) : null),
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              "aria-label": `Unban ${name}`,
              onclick: async () => {
                if ((await attempt("lift the ban", () => ctx.api.ban(roomId, b.userId, false, null).then(() => true))) === true) {
                  toast(`${name} may join again`, "info");
                }
                // Lifted, or lifted already elsewhere: the list as it now is.
                await load();
              },
            },
            "Unban",
          ),
        );
      }),
    );
  });
  return { el, render };
}

/** Picks people to add (those in `already` are not offered); resolves to their ids. */
async function addPeopleDialog(api: Api, myUserId: string, already: Set<string>): Promise<string[]> {
  const picked = new Map<string, User>();
  let done = false;
  const addBtn = h("button", { type: "submit", class: "primary", disabled: true }, "Add");
  const { closed } = modal("Add people", (close) => {
    const search = userSearch(api, myUserId, (u) => {
      if (already.has(u.userId)) return h("span", { class: "user-pick muted" }, userLabel(u), " · already in the group");
      const box = h("input", {
        type: "checkbox",
        checked: picked.has(u.userId),
        onchange: () => {
          if (box.checked) picked.set(u.userId, u);
          else picked.delete(u.userId);
          addBtn.disabled = picked.size === 0;
          addBtn.textContent = picked.size > 1 ? `Add ${picked.size} people` : "Add";
        },
      });
      return h("label", { class: "user-pick" }, box, userLabel(u));
    });
    queueMicrotask(() => search.input.focus());
    return [
      h(
        "form",
        {
          class: "group-form",
          onsubmit: (e: SubmitEvent) => {
            e.preventDefault();
            if (picked.size === 0) return;
            done = true;
            close();
          },
        },
        search.el,
        h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "secondary", onclick: close }, "Cancel"), addBtn),
      ),
    ];
  });
  await closed;
  return done ? [...picked.keys()] : [];
}

/**
 * A person's profile: picture, names, and "Send message", "Block" or
 * "Unblock". `known`: what the app already knows of them (a member).
 */
export async function profileDialog(ctx: PeopleContext, userId: string, known?: MemberView): Promise<void> {
  const { api } = ctx;
  const stored = (await knownUsersById(api, [userId])).get(userId);
  const name = stored?.displayName || stored?.userName || (known ? memberName(known) : "Someone");
  const userName = stored?.userName || known?.userName || "";
  const avatar = h("span", { class: "avatar avatar-large", "aria-hidden": "true" });
  fillAvatar(avatar, initials(name), stored?.avatarUrl ?? known?.avatarUrl ?? null, ctx.images);
  const blockBtn = h("button", { type: "button", class: "danger-outline", disabled: true }, "Block");
  const state = h("p", { class: "muted", role: "status" });
  let blocked = false;
  const showBlocked = (list: { userId: string }[]): void => {
    blocked = list.some((b) => b.userId === userId);
    blockBtn.textContent = blocked ? "Unblock" : "Block";
    blockBtn.disabled = false;
    state.textContent = blocked ? `You blocked ${name}: they cannot message you directly, and you get no notifications, typing or presence from them.` : "";
  };
  void api.blocks().then(showBlocked, () => (state.textContent = "Blocking needs a connection to the server."));
  blockBtn.addEventListener("click", async () => {
    if (!blocked && !(await confirmDialog(`Block ${name}`, `Block ${name}? They cannot open a direct chat with you or write in yours, and you get no notifications, typing or presence from them. They are not told.`, "Block"))) return;
    blockBtn.disabled = true;
    const next = await attempt(blocked ? "unblock" : "block", () => api.block(userId, !blocked));
    if (next) {
      showBlocked(next);
      toast(blocked ? `${name} is blocked` : `${name} is unblocked`, "info");
    } else blockBtn.disabled = false;
  });
  const { closed } = modal(name, (close) => {
    const message = h(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          const room = await attempt("open the chat", () => api.createDirect(userId));
          if (room) {
            close();
            ctx.openRoom(room.roomId);
          }
        },
      },
      "Send message",
    );
    return [
      h("div", { class: "profile-head" }, avatar, h("div", null, h("strong", null, name), userName ? h("p", { class: "muted" }, `@${userName}`) : null)),
      state,
      h("div", { class: "dialog-actions" }, userId === ctx.myUserId ? null : blockBtn, userId === ctx.myUserId ? null : message),
    ];
  });
  await closed;
}
