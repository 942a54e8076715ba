// Start-up: find the shell (or say the page must run inside the app), resume
// a stored session or show sign-in, and route the shell's events to the app.

import "./styles.css";
import { Api, inTauri, tauriBackend, type Backend } from "./tauri";
import { errorMessage } from "./tauri";
import type { ConnectionState } from "./types";
import { App, type Me } from "./ui/app";
import { h } from "./ui/dom";
import { icon } from "./ui/icons";
import { signInScreen } from "./ui/signin";
import { toast } from "./ui/toast";
import { IS_MAC, nativeMenuAllowed, shortcutOf } from "./logic/keys";
import { applyAppearance } from "./ui/theme";

/** The backend: the Tauri shell, or in development `?mock` for a fake one. */
async function findBackend(): Promise<Backend | null> {
  if (inTauri()) return tauriBackend;
  if (import.meta.env.DEV && new URLSearchParams(location.search).has("mock")) {
    const { mockBackend } = await import("./dev/mock");
    return mockBackend();
  }
  return null;
}

function outsideApp(): HTMLElement {
  return h(
    "main",
    { class: "signin" },
    h(
      "div",
      { class: "signin-card" },
      h("div", { class: "logo" }, icon("chat", 36)),
      h("h1", null, "Run inside the LeetChat app"),
      h("p", null, "This page is the LeetChat desktop app's interface. It talks to the app, so it cannot work in a web browser on its own: start the LeetChat app instead."),
      import.meta.env.DEV ? h("p", { class: "muted" }, "Developing? Add ?mock to the address for a fake backend.") : null,
    ),
  );
}

/**
 * What an app should not inherit from the webview: its context menu on
 * plain UI (Reload, Inspect…: the app has its own menus; text fields and
 * selections keep theirs), and reload, print and view-source keys.
 */
function behaveLikeAnApp(): void {
  document.addEventListener("contextmenu", (e) => {
    if (!e.defaultPrevented && !nativeMenuAllowed(e.target instanceof Element ? e.target : null, String(window.getSelection() ?? ""))) e.preventDefault();
  });
  document.addEventListener("keydown", (e) => {
    if (shortcutOf(e, IS_MAC) === "blocked") e.preventDefault();
  });
}

async function boot(): Promise<void> {
  applyAppearance();
  const root = document.getElementById("app");
  if (!root) throw new Error("index.html has no #app");
  const backend = await findBackend();
  if (!backend) {
    root.replaceChildren(outsideApp());
    return;
  }
  behaveLikeAnApp();
  const api = new Api(backend);
  // The server address the app was started with (a link, LEETCHAT_SERVER, config.json).
  const suggested = await api.suggestedServer().catch(() => null);
  let app: App | null = null;
  // The latest connection state, kept while no app is up (during sign-in).
  let connection: ConnectionState | null = null;

  const showSignIn = (notice?: string): void => {
    app?.destroy();
    app = null;
    connection = null;
    root.replaceChildren(signInScreen(api, showMain, notice, suggested));
  };
  function showMain(me: Me): void {
    app?.destroy();
    app = new App(api, me, showSignIn);
    root?.replaceChildren(app.el);
    void app.start(connection);
  }

  await api.onClientEvent((event) => {
    if (event.kind === "connection") connection = event.state;
    app?.handle(event);
  });
  await api.onOpenRoom((roomId) => app?.showRoom(roomId));

  let session = null;
  try {
    session = await api.session();
  } catch (err) {
    toast(`Could not read the stored session: ${errorMessage(err)}`);
  }
  if (session) showMain(session);
  else showSignIn();
}

void boot();
