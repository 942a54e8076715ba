// The sign-in / sign-up screen: server address, user name, password, and for
// a new account an optional display name. The server address is remembered.

import type { Api } from "../tauri";
import { errorMessage, isAccountNotKept, isNoKeyring } from "../tauri";
import type { SignedIn, SuggestedServer } from "../types";
import { h } from "./dom";
import { icon } from "./icons";

/** The shortest password the server takes for a new account. */
export const MIN_PASSWORD = 8;

/** The server the form suggests the first time. */
export const DEFAULT_SERVER = "http://localhost:3001";
const SERVER_KEY = "leetchat.server";

/** Checks a server address; returns why it is wrong, or null. */
export function serverProblem(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return "The server address must start with http:// or https://.";
    return null;
  } catch {
    return "Enter the server address, such as http://localhost:3001.";
  }
}

/**
 * The address the form starts with: a link or `LEETCHAT_SERVER` given for
 * this start, else the one used last, else the installation's config.json,
 * else the built-in default.
 */
export function startingServer(suggested: SuggestedServer | null | undefined, remembered: string | null): string {
  if (suggested && suggested.from !== "config") return suggested.server;
  return remembered ?? suggested?.server ?? DEFAULT_SERVER;
}

/** Builds the screen; `onDone` runs once the user is in. */
export function signInScreen(
  api: Api,
  onDone: (me: SignedIn & { server: string }) => void,
  notice?: string,
  suggested?: SuggestedServer | null,
): HTMLElement {
  let register = false;
  const field = (label: string, input: HTMLInputElement): HTMLElement =>
    h("label", { class: "field" }, h("span", null, label), input);
  const server = h("input", {
    class: "input",
    type: "url",
    name: "server",
    required: true,
    value: startingServer(suggested, localStorage.getItem(SERVER_KEY)),
    autocomplete: "url",
    spellcheck: "false",
  });
  const userName = h("input", { class: "input", type: "text", name: "username", required: true, autocomplete: "username", autocapitalize: "none", spellcheck: "false" });
  const displayName = h("input", { class: "input", type: "text", name: "displayName", autocomplete: "nickname" });
  const password = h("input", { class: "input", type: "password", name: "password", required: true, autocomplete: "current-password" });
  // The server's rule for new passwords, shown while creating an account.
  const hintId = `pw-hint-${Math.random().toString(36).slice(2)}`;
  const passwordHint = h("p", { class: "field-hint password-hint", id: hintId, hidden: true }, `Use at least ${MIN_PASSWORD} characters.`);
  const displayField = field("Display name (optional)", displayName);
  displayField.hidden = true;
  const invite = h("input", { class: "input", type: "text", name: "invite", autocomplete: "off", spellcheck: false });
  const inviteField = field("Invite code (if the server asks for one)", invite);
  inviteField.hidden = true;
  const error = h("p", { class: "error", role: "alert" });
  // No OS keyring (no Secret Service on this desktop): ask before keeping the
  // tokens in a file instead of failing the sign-in.
  let useFileStore = false;
  // Sign-up made the account but could not keep the sign-in: the retry
  // signs in to it (registering again would say the name is taken).
  let created = false;
  const createdNote = h("p", { hidden: true }, "Your account was created, but this computer could not keep your sign-in.");
  const fileYes = h("button", { type: "button", class: "primary" }, "Keep it in a file");
  const fileNo = h("button", { type: "button", class: "link" }, "Cancel");
  const fileAsk = h(
    "div",
    { class: "notice keyring-ask", role: "alertdialog", "aria-labelledby": "keyring-ask-text" },
    createdNote,
    h(
      "p",
      { id: "keyring-ask-text" },
      "This computer has no keyring to keep your sign-in in (no Secret Service such as GNOME Keyring or KWallet is running). " +
        "LeetChat can keep it in a file in its data folder that only your user account can read. Anyone who can read your files can then use your sign-in.",
    ),
    h("p", { class: "actions" }, fileYes, fileNo),
  );
  fileAsk.hidden = true;
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign in");
  const title = h("h1", null, "Sign in to LeetChat");
  const toggle = h("button", { type: "button", class: "link" }, "Create an account");
  const swap = (): void => {
    register = !register;
    title.textContent = register ? "Create a LeetChat account" : "Sign in to LeetChat";
    submit.textContent = register ? "Create account" : "Sign in";
    toggle.textContent = register ? "I already have an account" : "Create an account";
    password.autocomplete = register ? "new-password" : "current-password";
    displayField.hidden = !register;
    inviteField.hidden = !register;
    passwordHint.hidden = !register;
    if (register) {
      password.minLength = MIN_PASSWORD;
      password.setAttribute("aria-describedby", hintId);
    } else {
      password.removeAttribute("minlength");
      password.removeAttribute("aria-describedby");
    }
    error.textContent = "";
  };
  toggle.addEventListener("click", swap);
  // Another name, server or password is another sign-up: not created yet.
  for (const field of [userName, server, password]) {
    field.addEventListener("input", () => {
      created = false;
      createdNote.hidden = true;
    });
  }
  const closeAsk = (): void => {
    fileAsk.hidden = true;
    submit.hidden = false;
  };
  fileYes.addEventListener("click", () => {
    useFileStore = true;
    closeAsk();
    form.requestSubmit();
  });
  fileNo.addEventListener("click", () => {
    closeAsk();
    error.textContent = created
      ? "Your account was created. Sign in to it once a keyring is running, or keep the sign-in in a file."
      : "Not signed in: there is no keyring to keep the sign-in in.";
  });

  const form = h(
    "form",
    {
      class: "signin-form",
      "aria-labelledby": "signin-title",
      novalidate: true,
      onsubmit: async (e: SubmitEvent) => {
        e.preventDefault();
        const serverUrl = server.value.trim().replace(/\/+$/, "");
        const problem =
          serverProblem(serverUrl) ??
          (userName.value.trim() === "" ? "Enter your user name." : null) ??
          (password.value === "" ? "Enter your password." : null) ??
          (register && [...password.value].length < MIN_PASSWORD ? `Use at least ${MIN_PASSWORD} characters for your password.` : null);
        if (problem) {
          error.textContent = problem;
          return;
        }
        error.textContent = "";
        submit.disabled = true;
        toggle.disabled = true;
        const before = submit.textContent;
        submit.textContent = register ? "Creating account…" : "Signing in…";
        try {
          const display = displayName.value.trim();
          const code = invite.value.trim();
          const me = await api.signIn({
            server: serverUrl,
            userName: userName.value.trim(),
            password: password.value,
            register: register && !created,
            ...(register && !created && display ? { displayName: display } : {}),
            ...(register && !created && code ? { invite: code } : {}),
            ...(useFileStore ? { useFileStore: true } : {}),
          });
          localStorage.setItem(SERVER_KEY, serverUrl);
          password.value = "";
          onDone({ ...me, server: serverUrl });
        } catch (err) {
          submit.disabled = false;
          toggle.disabled = false;
          submit.textContent = before;
          // Made, but not kept even in the file: the next try signs in.
          if (isAccountNotKept(err)) created = true;
          if (isNoKeyring(err) && !useFileStore) {
            createdNote.hidden = !created;
            fileAsk.hidden = false;
            submit.hidden = true;
            fileYes.focus();
            return;
          }
          error.textContent = errorMessage(err, register ? "register" : "sign-in");
        }
      },
    },
    field("Server address", server),
    field("User name", userName),
    displayField,
    field("Password", password),
    passwordHint,
    inviteField,
    error,
    fileAsk,
    submit,
    h("p", { class: "switch" }, toggle),
  );
  title.id = "signin-title";
  const screen = h(
    "main",
    { class: "signin" },
    h("div", { class: "signin-card" }, h("div", { class: "logo" }, icon("chat", 36)), title, notice ? h("p", { class: "notice", role: "status" }, notice) : null, form),
  );
  queueMicrotask(() => (userName.value ? password : userName).focus());
  return screen;
}
