// The settings screen: the user's profile (display name, picture),
// notification default, appearance (theme, text size), about (version,
// license, server), the people they blocked, their signed-in devices
// (each can be signed out), their data (export, delete the account), and
// signing out of this device.
// Every change goes to the server and comes back to the app as the client
// core's events (a `user.updated`, a `notify_default`); the lists here are
// read when the screen opens and after each change.

import type { Api } from "../tauri";
import type { NotifyLevel, User } from "../types";
import { deviceSummary } from "../logic/community";
import { LEVELS } from "../logic/notify";
import { initials } from "../logic/rooms";
import type { ImageSource } from "./attachments";
import { fillAvatar } from "./avatar";
import { askDialog, confirmDialog, knownUsersById, modal, settingsSection } from "./dialogs";
import { h } from "./dom";
import { attempt, toast } from "./toast";
import { density, setDensity, setTextSize, setThemeChoice, textSize, themeChoice, type Density, type TextSize, type ThemeChoice } from "./theme";

/** What the settings screen needs from the app. */
export interface SettingsContext {
  api: Api;
  server: string;
  images: ImageSource;
  notifyDefault: NotifyLevel;
  /** The account was deleted: back to the sign-in screen with this notice. */
  onDeleted(notice: string): void;
  /** Sign out of this device (asks first). */
  onSignOut(): void;
}

/** Opens the settings screen; resolves when it closes. */
export async function settingsDialog(ctx: SettingsContext): Promise<void> {
  const { api } = ctx;
  let deleted = false;
  const { closed } = modal(
    "Settings",
    (close) => [
      profileSection(ctx),
      notifySection(ctx),
      appearanceSection(),
      blockedSection(api),
      devicesSection(api),
      dataSection(ctx, () => {
        deleted = true;
        close();
      }),
      aboutSection(ctx),
      settingsSection(
        "Sign out",
        h("p", { class: "muted" }, `Signed in to ${ctx.server}.`),
        h(
          "div",
          { class: "hbox" },
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => {
                close();
                ctx.onSignOut();
              },
            },
            "Sign out of this device",
          ),
        ),
      ),
    ],
    true,
  );
  await closed;
  if (deleted) ctx.onDeleted("Your account was deleted.");
}

function profileSection(ctx: SettingsContext): HTMLElement {
  const { api } = ctx;
  const avatar = h("span", { class: "avatar avatar-large", "aria-hidden": "true" });
  const name = h("input", {
    type: "text",
    class: "input",
    name: "displayName",
    id: `display-name-${Math.random().toString(36).slice(2)}`,
    maxlength: "64",
    autocomplete: "nickname",
  });
  const handle = h("p", { class: "muted" });
  const save = h("button", { type: "submit", class: "primary", disabled: true }, "Save name");
  const change = h("button", { type: "button", class: "secondary" }, "Change picture");
  const remove = h("button", { type: "button", class: "secondary", hidden: true }, "Remove picture");
  let user: User | null = null;
  /** The user typed a name not saved yet: the profile as read does not overwrite it. */
  let editing = false;
  const refreshSave = (): void => {
    save.disabled = !user || name.value.trim() === "" || name.value.trim() === (user.displayName || user.userName);
  };
  const showUser = (u: User): void => {
    user = u;
    const shown = u.displayName || u.userName;
    fillAvatar(avatar, initials(shown), u.avatarUrl ?? null, ctx.images);
    if (!editing) name.value = shown;
    handle.textContent = `@${u.userName} on ${ctx.server}`;
    remove.hidden = !u.avatarUrl;
    refreshSave();
  };
  name.addEventListener("input", () => {
    editing = true;
    refreshSave();
  });
  change.addEventListener("click", async () => {
    const paths = await attempt("open the file picker", () => api.pickFiles());
    const path = paths?.[0];
    if (!path) return;
    change.disabled = true;
    const u = await attempt("change your picture", () => api.updateProfile(null, path, false));
    change.disabled = false;
    if (u) {
      showUser(u);
      toast("Picture changed", "info");
    }
  });
  remove.addEventListener("click", async () => {
    const u = await attempt("remove your picture", () => api.updateProfile(null, null, true));
    if (u) showUser(u);
  });
  const form = h(
    "form",
    {
      class: "profile-form",
      onsubmit: async (e: SubmitEvent) => {
        e.preventDefault();
        if (save.disabled) return;
        save.disabled = true;
        const u = await attempt("change your name", () => api.updateProfile(name.value.trim(), null, false));
        if (u) {
          editing = false;
          showUser(u);
          toast("Name changed", "info");
        } else save.disabled = false;
      },
    },
    h("div", { class: "field" }, h("label", { for: name.id }, "Display name"), h("div", { class: "hbox" }, name, save)),
  );
  void attempt("read your profile", () => api.profile()).then((u) => u && showUser(u));
  return settingsSection(
    "Profile",
    h("div", { class: "profile-head" }, avatar, h("div", { class: "profile-pic" }, handle, h("div", { class: "hbox" }, change, remove))),
    form,
  );
}

/** The app's version and license, and the server it talks to. */
function aboutSection(ctx: SettingsContext): HTMLElement {
  const version = h("p", null, "LeetChat");
  void attempt("read the app's version", () => ctx.api.about()).then((a) => {
    if (a) version.textContent = `LeetChat ${a.version} · ${a.license} license · free software`;
  });
  return settingsSection(
    "About",
    version,
    h("p", { class: "muted" }, `Server: ${ctx.server}`),
    h("p", { class: "muted" }, "The web UI uses markdown-it, DOMPurify, highlight.js and emoji-picker-element; the app is built on Tauri. Each keeps its own license."),
  );
}

/** Light, dark or the system's theme, the text size and compact mode: kept on this device. */
function appearanceSection(): HTMLElement {
  const choose = <T extends string>(label: string, options: [T, string][], current: T, set: (v: T) => void): HTMLElement => {
    const group = `${label.replace(/\W/g, "")}-${Math.random().toString(36).slice(2)}`;
    return h(
      "div",
      { class: "field" },
      h("span", { id: `${group}-label` }, label),
      h(
        "div",
        { class: "choices", role: "radiogroup", "aria-label": label },
        ...options.map(([value, text]) =>
          h("label", { class: "choice" }, h("input", { type: "radio", name: group, value, checked: value === current, onchange: () => set(value) }), text),
        ),
      ),
    );
  };
  return settingsSection(
    "Appearance",
    h("p", { class: "muted" }, "Kept on this device."),
    choose<ThemeChoice>("Theme", [["system", "Follow the system"], ["light", "Light"], ["dark", "Dark"]], themeChoice(), setThemeChoice),
    choose<TextSize>("Text size", [["small", "Small"], ["default", "Default"], ["large", "Large"]], textSize(), setTextSize),
    choose<Density>("Layout", [["comfortable", "Comfortable"], ["compact", "Compact"]], density(), setDensity),
  );
}

function notifySection(ctx: SettingsContext): HTMLElement {
  const group = `notify-${Math.random().toString(36).slice(2)}`;
  let current = ctx.notifyDefault;
  const radios: HTMLInputElement[] = [];
  const choices = LEVELS.map((l) => {
    const radio = h("input", {
      type: "radio",
      name: group,
      value: l.level,
      checked: l.level === current,
      onchange: async () => {
        const set = await attempt("change notifications", () => ctx.api.setNotifyDefault(l.level));
        if (set !== undefined) current = set;
        // Refused: the level that holds is ticked again.
        for (const r of radios) r.checked = r.value === current;
      },
    });
    radios.push(radio);
    return h("label", { class: "choice" }, radio, l.label);
  });
  return settingsSection(
    "Notifications",
    h("p", { class: "muted" }, "What chats tell you about, unless you set a chat otherwise from its bell."),
    h("div", { class: "choices", role: "radiogroup", "aria-label": "Default notifications" }, ...choices),
  );
}

function blockedSection(api: Api): HTMLElement {
  const list = h("ul", { class: "settings-list", "aria-label": "Blocked people" });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  const render = async (blocks: { userId: string }[]): Promise<void> => {
    const users = await knownUsersById(api, blocks.map((b) => b.userId));
    status.textContent = blocks.length ? "" : "You have not blocked anyone. Block someone from their profile (click their name).";
    list.replaceChildren(
      ...blocks.map((b) => {
        const u = users.get(b.userId);
        const label = u ? u.displayName || u.userName : "Someone you no longer share a chat with";
        return h(
          "li",
          null,
          h("span", { class: "grow" }, label, u ? h("span", { class: "muted" }, ` @${u.userName}`) : null),
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              "aria-label": `Unblock ${label}`,
              onclick: async () => {
                const next = await attempt("unblock", () => api.block(b.userId, false));
                if (next) await render(next);
              },
            },
            "Unblock",
          ),
        );
      }),
    );
  };
  void attempt("read the people you blocked", () => api.blocks()).then(async (b) => {
    if (b) await render(b);
    else status.textContent = "Needs a connection to the server.";
  });
  return settingsSection("Blocked people", status, list);
}

function devicesSection(api: Api): HTMLElement {
  const list = h("ul", { class: "settings-list", "aria-label": "Signed-in devices" });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  const load = async (): Promise<void> => {
    const devices = await attempt("read your devices", () => api.devices());
    if (!devices) {
      status.textContent = "Needs a connection to the server.";
      return;
    }
    status.textContent = "";
    list.replaceChildren(
      ...devices.map((d) =>
        h(
          "li",
          null,
          h("span", { class: "grow" }, h("strong", null, d.name || "Unnamed device"), h("span", { class: "muted" }, ` · ${deviceSummary(d)}`)),
          d.current
            ? null
            : h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  "aria-label": `Sign out ${d.name || "this device"}`,
                  onclick: async () => {
                    if (!(await confirmDialog("Sign out device", `Sign out “${d.name || "Unnamed device"}”? It will need the password to sign in again.`, "Sign out"))) return;
                    await attempt("sign the device out", () => api.signOutDevice(d.deviceId));
                    await load();
                  },
                },
                "Sign out",
              ),
        ),
      ),
    );
  };
  void load();
  return settingsSection("Signed-in devices", status, list);
}

function dataSection(ctx: SettingsContext, onDeleted: () => void): HTMLElement {
  const { api } = ctx;
  const exportBtn = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        exportBtn.disabled = true;
        const path = await attempt("export your data", () => api.exportData());
        exportBtn.disabled = false;
        if (path) toast(`Your data was saved to ${path}`, "info");
      },
    },
    "Export my data",
  );
  const deleteBtn = h(
    "button",
    {
      type: "button",
      class: "danger-outline",
      onclick: async () => {
        const password = await askDialog(
          "Delete your account",
          "This deletes your account for good: every message you sent is removed for everyone, and you are signed out everywhere. Your user name stays taken. Enter your password to confirm.",
          { label: "Password", yes: "Delete my account", danger: true, password: true, required: true, act: (pw) => api.deleteAccount(pw) },
        );
        if (password !== null) onDeleted();
      },
    },
    "Delete account…",
  );
  return settingsSection(
    "Your data",
    h("p", { class: "muted" }, "A copy of your profile, chats and the messages you sent, as a JSON file in your Downloads folder."),
    h("div", { class: "hbox" }, exportBtn, deleteBtn),
  );
}
