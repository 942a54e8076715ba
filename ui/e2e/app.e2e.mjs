// End-to-end test of the real desktop app window, driven through WebDriver:
// tauri-driver in front of WebKitWebDriver (run it with scripts/e2e.sh, which
// starts Xvfb when there is no display). A real leetchat-server runs on a free
// loopback port; bob uses the terminal client, alice the app.
//
//   node --test ui/e2e/
//
// Environment (all optional):
//   LEETCHAT_BIN_DIR   where leetchat-server, leetchat, leetchat-app are
//                      (default $CARGO_TARGET_DIR/debug, else ~/.cache/leetchat/target/debug)
//   TAURI_DRIVER       the tauri-driver binary (default: ~/.cargo/bin/tauri-driver, else PATH)

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, openSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Builder, By, Capabilities, Key, until } from "selenium-webdriver";
import { eventually, freePort, makePng, portOpen, sleep, xpathString } from "./helpers.mjs";

const BIN_DIR =
  process.env.LEETCHAT_BIN_DIR ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), ".cache/leetchat/target"), "debug");
const SERVER_BIN = path.join(BIN_DIR, "leetchat-server");
const CLI_BIN = path.join(BIN_DIR, "leetchat");
const APP_BIN = path.join(BIN_DIR, "leetchat-app");
const TAURI_DRIVER =
  process.env.TAURI_DRIVER ??
  (existsSync(path.join(os.homedir(), ".cargo/bin/tauri-driver")) ? path.join(os.homedir(), ".cargo/bin/tauri-driver") : "tauri-driver");

const PASSWORD = "correct horse battery staple";
const tmp = mkdtempSync(path.join(os.tmpdir(), "leetchat-e2e-"));
const serverData = path.join(tmp, "server");
const bobData = path.join(tmp, "bob");
const appHome = path.join(tmp, "home");
const logs = path.join(tmp, "logs");
for (const d of [serverData, bobData, appHome, logs]) rmSync(d, { recursive: true, force: true });

/** Every child process started here, to stop at the end. */
const children = new Set();
let driver = null;
let server = null;
let serverPort = 0;
let serverUrl = "";
/** A web page the messages link to (the server may fetch 127.0.0.1 for its preview). */
let siteUrl = "";
let site = null;
let keepTmp = false;

/** Starts a long-running child with its output in logs/<name>.log. */
function start(name, cmd, args, env) {
  const out = openSync(path.join(logs, `${name}.log`), "a");
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", out, out], detached: true });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Stops a child (and its process group) and waits for it to exit. */
async function stop(child, signal = "SIGTERM") {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
  const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    await exited;
  }
}

async function startServer() {
  server = start("server", SERVER_BIN, [], {
    SOCKET_PORT: String(serverPort),
    DATA_DIR: serverData,
    BIND_ADDRESS: "127.0.0.1",
    LINK_PREVIEW_ALLOW_HOSTS: "127.0.0.1",
    // Bob's terminal client connects (and syncs) once per command, and the
    // search step has him send 90 messages in a row.
    RATE_LIMIT_SYNC: "1000/60",
    RATE_LIMIT_MESSAGE: "1000/60",
  });
  const s = server;
  await eventually("the server to listen", async () => {
    if (s.exitCode !== null) throw new Error(`server exited with ${s.exitCode}`);
    return portOpen(serverPort);
  });
}

/** Runs bob's terminal client; resolves with stdout. */
function bob(...args) {
  return cli(bobData, args);
}

/** Runs alice's terminal client (a second device of hers); resolves with stdout. */
function aliceCli(...args) {
  return cli(path.join(tmp, "alice-cli"), args);
}

/** Runs the terminal client on the data folder `dir`. */
function cli(dir, args) {
  return new Promise((resolve, reject) => {
    execFile(
      CLI_BIN,
      ["--server", serverUrl, "--data-dir", dir, "--credentials", "file", ...args],
      { env: { ...process.env, LEETCHAT_PASSWORD: PASSWORD }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`leetchat ${args.join(" ")} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Runs a program to completion (with `env` added); resolves with stdout ("" when it failed and `mayFail`). */
function run(cmd, args, mayFail = false, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err && !mayFail) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(err ? "" : stdout);
    });
  });
}

/** Bob's view of his direct room with alice (after a sync), as MessageViews. */
async function bobHistory() {
  const out = await bob("--json", "history", "alice", "--limit", "50");
  return out
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l));
}

// ---- the app ------------------------------------------------------------

const css = (s) => By.css(s);

/** Waits for `locator` to match. WebKitWebDriver's own search can fail with a
 * stale element while the list it walks is being redrawn (a live update);
 * that is a retry, not a failure. */
async function find(locator, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await driver.wait(until.elementLocated(locator), Math.max(1, deadline - Date.now()), `element ${locator} not found`);
    } catch (e) {
      if (e?.name !== "StaleElementReferenceError" || Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

/** A message row whose aria-label contains `text`. */
function rowWith(text) {
  return By.xpath(`//div[contains(@class,'row') and @role='article' and contains(@aria-label, ${xpathString(text)})]`);
}

/** Finds and clicks `locator` (scrolled into view: a long dialog scrolls),
 * finding it again when the UI re-rendered the element in between (a list
 * redrawn by a live update). */
async function clickFresh(locator, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const el = await find(locator, Math.max(1, deadline - Date.now()));
      await driver.executeScript("arguments[0].scrollIntoView({ block: 'nearest' });", el);
      await el.click();
      return;
    } catch (e) {
      if (e?.name !== "StaleElementReferenceError" || Date.now() > deadline) throw e;
    }
  }
}

/** The open room's message rows' labels, read in one go inside the page (a
 * row redrawn between finding and reading it cannot go stale). */
async function rowLabels() {
  return driver.executeScript(`return [...document.querySelectorAll('.messages [role="article"]')].map((r) => r.getAttribute("aria-label"));`);
}

/** The open room's typing line ("bob is typing…", or "" when nobody types). */
async function typingLine() {
  return driver.executeScript(`return document.querySelector(".chat .typing-line")?.textContent ?? null;`);
}

/** The open room's title, as the chat header shows it. */
async function chatTitle() {
  return driver.executeScript(`return document.getElementById("chat-title")?.textContent ?? "";`);
}

async function composer() {
  return find(css('textarea[aria-label="Message"]'));
}

// ---- setup and teardown -------------------------------------------------

before(async () => {
  const { mkdirSync } = await import("node:fs");
  for (const d of [serverData, bobData, appHome, logs]) mkdirSync(d, { recursive: true });
  for (const bin of [SERVER_BIN, CLI_BIN, APP_BIN]) assert.ok(existsSync(bin), `${bin} is missing: build it first`);

  // A real notification server (dunst) on this test's session bus (e2e.sh
  // runs the test under dbus-run-session): a left click invokes the
  // notification's default action, as GNOME Shell or KDE Plasma do.
  const dunstrc = path.join(tmp, "dunstrc");
  writeFileSync(dunstrc, "[global]\n    mouse_left_click = do_action, close_current\n    timeout = 0\n");
  const dunst = start("dunst", "dunst", ["-config", dunstrc], {});
  await eventually("dunst to own org.freedesktop.Notifications", async () => {
    if (dunst.exitCode !== null) throw new Error(`dunst exited with ${dunst.exitCode} (see ${logs}/dunst.log)`);
    const out = await run("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications"], true);
    return out.includes("boolean true");
  });

  // The site a message links to: a page with OpenGraph tags and its picture.
  const { createServer } = await import("node:http");
  const cover = makePng(600, 315);
  site = createServer((req, res) => {
    if (req.url === "/article") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><title>guide</title>
        <meta property="og:title" content="The LeetChat guide">
        <meta property="og:description" content="How to run your own chat server">
        <meta property="og:site_name" content="LeetChat docs">
        <meta property="og:image" content="/cover.png"></head><body>guide</body></html>`);
    } else if (req.url === "/cover.png") {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(cover);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${site.address().port}`;

  serverPort = await freePort();
  serverUrl = `http://127.0.0.1:${serverPort}`;
  await startServer();
  await bob("register", "bob");

  const driverPort = await freePort();
  let nativePort = await freePort();
  while (nativePort === driverPort) nativePort = await freePort();
  // The app inherits this environment through WebKitWebDriver.
  const td = start("tauri-driver", TAURI_DRIVER, ["--port", String(driverPort), "--native-port", String(nativePort)], {
    HOME: appHome,
    XDG_DATA_HOME: path.join(appHome, ".local/share"),
    XDG_CONFIG_HOME: path.join(appHome, ".config"),
    XDG_CACHE_HOME: path.join(appHome, ".cache"),
    LEETCHAT_CREDENTIALS: "file",
  });
  await eventually("tauri-driver to listen", async () => {
    if (td.exitCode !== null) throw new Error(`tauri-driver exited with ${td.exitCode} (see ${logs}/tauri-driver.log)`);
    return portOpen(driverPort);
  });

  const caps = new Capabilities();
  caps.set("tauri:options", { application: APP_BIN });
  caps.setBrowserName("wry");
  driver = await new Builder().withCapabilities(caps).usingServer(`http://127.0.0.1:${driverPort}/`).build();
});

after(async () => {
  if (driver) {
    try {
      await driver.quit();
    } catch {}
  }
  for (const child of [...children]) await stop(child);
  site?.closeAllConnections();
  site?.close();
  if (keepTmp || process.env.LEETCHAT_E2E_KEEP) console.error(`e2e: logs and data kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
});

// ---- the scenario -------------------------------------------------------

/** One step of the scenario, timed in the output. */
async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
  } finally {
    console.error(`e2e: ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
}

test("alice (app) and bob (CLI) chat, edit, delete, and survive a server restart", async () => {
  const t0 = Date.now();
  try {
    /**
     * axe-core's check of the page as it stands: no serious or critical
     * violation. axe runs inside the page (WebDriver's script, not a script
     * element, so the app's CSP does not stop it).
     */
    const axeSource = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
    const accessible = async (where) => {
      const found = await driver.executeAsyncScript(
        `${axeSource}
         ;const done = arguments[arguments.length - 1];
         window.axe.run(document, { resultTypes: ["violations"] }).then(
           (r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }))),
           (e) => done([{ id: "axe-error", impact: "critical", help: String(e), nodes: [] }]),
         );`,
      );
      const serious = found.filter((v) => v.impact === "serious" || v.impact === "critical");
      if (found.length) console.log(`# e2e: axe on ${where}: ${found.map((v) => `${v.id} (${v.impact})`).join(", ")}`);
      assert.deepEqual(serious, [], `axe-core: serious or critical violations on ${where}: ${JSON.stringify(serious, null, 1)}`);
    };
    /** Closes the dialog on top with its Close button and waits until none is open. */
    const closeDialog = async () => {
      await clickFresh(By.xpath("(//dialog[@open])[last()]//button[@aria-label='Close']"));
      await eventually("the dialog to close", async () => driver.executeScript(`return document.querySelector("dialog[open]") === null;`));
    };
    const shots = process.env.LEETCHAT_E2E_SCREENSHOTS;
    const shot = async (name) => {
      if (!shots) return;
      // Let pictures of rows just redrawn (a receipt, an ack) paint first.
      await sleep(500);
      writeFileSync(path.join(shots, name), await driver.takeScreenshot(), "base64");
    };
    await step("sign up as alice", async () => {
      const toggle = await find(By.xpath("//button[normalize-space()='Create an account']"));
      await toggle.click();
      const serverInput = await find(css('input[name="server"]'));
      await serverInput.clear();
      await serverInput.sendKeys(serverUrl);
      await (await find(css('input[name="username"]'))).sendKeys("alice");
      await (await find(css('input[name="password"]'))).sendKeys(PASSWORD);
      await accessible("the sign-up screen");
      await (await find(css('form.signin-form button[type="submit"]'))).click();
      await find(css('ul[aria-label="Conversations"]'), 30_000);
    });

    await step("bob's direct message shows up and opens", async () => {
      await bob("dm", "alice");
      await bob("send", "alice", "hello alice");
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"), 30_000);
      await find(rowWith("hello alice"), 20_000);
    });

    await step("alice replies with Enter; bob sees it exactly once", async () => {
      const box = await composer();
      await box.click();
      await box.sendKeys("hi bob", Key.ENTER);
      await find(rowWith("hi bob"));
      assert.equal(await box.getAttribute("value"), "", "the composer empties after sending");
      const mine = await eventually("bob to see 'hi bob'", async () => {
        const h = await bobHistory();
        const m = h.filter((x) => x.content === "hi bob");
        return m.length >= 1 && m.every((x) => x.seq !== null) ? m : null;
      });
      assert.equal(mine.length, 1, "bob sees the reply exactly once");
      // Settle: a late duplicate would show up on a later sync.
      await sleep(1_000);
      assert.equal((await bobHistory()).filter((x) => x.content === "hi bob").length, 1);
    });


    await step("bob types in the terminal; the app shows it, then sees it stop", async () => {
      const typist = start("bob-typing", CLI_BIN, ["--server", serverUrl, "--data-dir", bobData, "--credentials", "file", "typing", "alice"], {
        LEETCHAT_PASSWORD: PASSWORD,
      });
      try {
        await eventually(
          "the app's typing line to say bob is typing",
          async () => (await typingLine()) === "bob is typing…",
        );
        // The room list says it too, in bob's row.
        await eventually("the room list to say bob is typing", async () => {
          const previews = await driver.executeScript(
            `return [...document.querySelectorAll("ul[aria-label='Conversations'] .room-preview")].map((p) => p.textContent);`,
          );
          if (!previews.includes("bob is typing…")) throw new Error(`previews: ${JSON.stringify(previews)}`);
          return true;
        });
      } finally {
        // SIGTERM, as Ctrl-C: the CLI sends typing.stop on its way out.
        await stop(typist);
      }
      assert.equal(typist.exitCode, 0, `leetchat typing exited with ${typist.exitCode} (see ${logs}/bob-typing.log)`);
      // Well under the server's 5 s expiry: typing.stop (or the disconnect
      // right after it) cleared it, not a timeout.
      await eventually("the typing line to clear", async () => (await typingLine()) === "", 4_000, 100);
    });

    let messageId = null;
    await step("alice edits her last message with Up", async () => {
      const box = await composer();
      await box.click();
      await box.sendKeys(Key.ARROW_UP);
      await eventually("the composer to hold the message being edited", async () => (await box.getAttribute("value")) === "hi bob");
      await box.sendKeys(" (edited)", Key.ENTER);
      await find(rowWith("hi bob (edited)"));
      const edited = await eventually("bob to see the edit", async () => {
        const h = await bobHistory();
        return h.find((x) => x.content === "hi bob (edited)" && x.editedAt);
      });
      messageId = edited.messageId;
      assert.ok(messageId);
      assert.equal((await bobHistory()).filter((x) => x.content.startsWith("hi bob")).length, 1, "the edit replaces, it does not add");
    });

    await step("alice deletes it from the message menu", async () => {
      const row = await find(rowWith("hi bob (edited)"));
      await driver.actions().move({ origin: row }).perform();
      const menuBtn = await row.findElement(css('button[aria-label="Message actions"]'));
      await driver.actions().move({ origin: menuBtn }).click().perform();
      const del = await find(By.xpath("//div[@role='menu']//button[@role='menuitem' and normalize-space()='Delete']"));
      await del.click();
      const yes = await find(By.xpath("//dialog//button[normalize-space()='Delete']"));
      await yes.click();
      await eventually("the tombstone in the app", async () => (await rowLabels()).some((l) => l?.includes("This message was deleted")));
      assert.ok(!(await rowLabels()).some((l) => l?.includes("hi bob")), "the deleted text is gone from the app");
      await eventually("bob to see the tombstone", async () => {
        const h = await bobHistory();
        const m = h.find((x) => x.messageId === messageId);
        return m && m.deletedAt;
      });
    });


    await step("alice sends an image; its thumbnail loads and bob downloads the same bytes", async () => {
      const png = makePng(320, 200);
      const pngPath = path.join(tmp, "gradient.png");
      writeFileSync(pngPath, png);
      // A file dropped on the open room, as the window system reports it
      // (Tauri's drag-drop event): the UI's drop handler queues it through the
      // shell's send_file. WebDriver cannot drive a native file dialog or an
      // OS drag, so the drop is emitted on Tauri's event bus.
      const dropped = await driver.executeAsyncScript(
        `const [paths, done] = [arguments[0], arguments[arguments.length - 1]];
         const r = document.querySelector(".chat .messages").getBoundingClientRect();
         const ratio = window.devicePixelRatio || 1;
         const position = { x: (r.left + r.width / 2) * ratio, y: (r.top + r.height / 2) * ratio };
         window.__TAURI_INTERNALS__.invoke("plugin:event|emit", { event: "tauri://drag-drop", payload: { paths, position } })
           .then(() => done("ok"), (e) => done(String(e)));`,
        [pngPath],
      );
      assert.equal(dropped, "ok", "the drop event was emitted");
      // Nothing goes before the user says so: the send dialog shows the
      // picture's preview and its size, and sends on Send.
      await find(By.xpath("//dialog[.//h2[normalize-space()='Send gradient.png']]//img[@alt='Preview of gradient.png']"), 15_000);
      assert.equal((await bobHistory()).filter((x) => x.attachments?.some((a) => a.name === "gradient.png")).length, 0, "nothing sent before Send");
      await shot("send-dialog.png");
      await (await find(By.xpath("//dialog//button[normalize-space()='Send']"))).click();
      const row = rowWith("image gradient.png");
      await find(row, 30_000);
      const loaded = await eventually(
        "the thumbnail to load",
        async () =>
          driver.executeScript(
            `const rows = [...document.querySelectorAll('.messages [role="article"]')].filter((r) => (r.getAttribute("aria-label") || "").includes("image gradient.png"));
             const img = rows.length === 1 ? rows[0].querySelector(".thumb img") : null;
             return img && img.complete && img.naturalWidth > 0 && img.closest(".thumb").classList.contains("loaded")
               ? { w: img.naturalWidth, h: img.naturalHeight, src: img.getAttribute("src") }
               : null;`,
          ),
        30_000,
      );
      assert.ok(loaded.w > 0 && loaded.h > 0, `thumbnail ${JSON.stringify(loaded)}`);
      // Same aspect as the picture (the server's thumbnail keeps it).
      assert.ok(Math.abs(loaded.w / loaded.h - 320 / 200) < 0.05, `thumbnail aspect ${loaded.w}x${loaded.h}`);
      assert.equal((await rowLabels()).filter((l) => l?.includes("image gradient.png")).length, 1, "one row for the image");
      const sent = await eventually("bob to see the image message", async () => {
        const m = (await bobHistory()).filter((x) => x.attachments?.some((a) => a.name === "gradient.png" && a.fileId));
        return m.length >= 1 && m.every((x) => x.messageId) ? m : null;
      });
      assert.equal(sent.length, 1, "bob sees the image exactly once");
      const att = sent[0].attachments[0];
      assert.equal(att.mime, "image/png");
      assert.equal(att.width, 320);
      assert.equal(att.height, 200);
      const outDir = path.join(tmp, "bob-downloads");
      const { mkdirSync } = await import("node:fs");
      mkdirSync(outDir, { recursive: true });
      await bob("download", sent[0].messageId, "--out", outDir);
      const files = readdirSync(outDir);
      assert.equal(files.length, 1, `one file downloaded (${files.join(", ")})`);
      assert.ok(readFileSync(path.join(outDir, files[0])).equals(png), "bob got the same bytes alice sent");
    });


    await step("alice pastes text, then an image with Ctrl+V; its thumbnail loads and bob gets it with the text as caption", async () => {
      // The picture is on the X clipboard (of this Xvfb display) as image/png,
      // as an image viewer or a browser's "Copy image" puts it. WebKitGTK's
      // paste event carries no image file for it, so the shell reads the
      // clipboard itself. xclip -quiet stays in the foreground, serving the
      // selection until it is stopped (or another client takes the clipboard).
      const pngPath = path.join(tmp, "clipboard.png");
      writeFileSync(pngPath, makePng(240, 160));
      const captionPath = path.join(tmp, "clipboard.txt");
      const caption = "pasted from the clipboard";
      writeFileSync(captionPath, caption);
      /** Puts a file on the X clipboard as `type`; resolves to the xclip serving it. */
      const toClipboard = async (file, type) => {
        const xclip = start("xclip", "xclip", ["-quiet", "-selection", "clipboard", "-t", type, "-i", file], {});
        await eventually(`xclip to own the clipboard with ${type}`, async () => {
          if (xclip.exitCode !== null) throw new Error(`xclip exited with ${xclip.exitCode} (see ${logs}/xclip.log)`);
          return (await run("xclip", ["-selection", "clipboard", "-t", "TARGETS", "-o"], true)).split("\n").includes(type);
        });
        return xclip;
      };
      const paste = () => driver.actions().keyDown(Key.CONTROL).sendKeys("v").keyUp(Key.CONTROL).perform();
      const box = await composer();
      await box.click();
      // Text pastes as text (no image is looked for).
      const text = await toClipboard(captionPath, "UTF8_STRING");
      try {
        await paste();
        await eventually("the pasted text in the composer", async () => (await box.getAttribute("value")) === caption);
      } finally {
        await stop(text);
      }
      const xclip = await toClipboard(pngPath, "image/png");
      try {
        await paste();
        // The send dialog shows the picture with the composer's text as its caption.
        await find(By.xpath("//dialog//img[starts-with(@alt, 'Preview of pasted-')]"), 15_000);
        const captionBox = await find(By.xpath("//dialog//textarea[@aria-label='Caption']"));
        assert.equal(await captionBox.getAttribute("value"), caption, "the composer's text is offered as the caption");
        await (await find(By.xpath("//dialog//button[normalize-space()='Send']"))).click();
        const labelled = `contains(@aria-label, ${xpathString(caption)}) and contains(@aria-label, 'image pasted-')`;
        await find(By.xpath(`//div[contains(@class,'row') and @role='article' and ${labelled}]`), 30_000);
        await eventually("the composer to give its text to the image as caption", async () => (await box.getAttribute("value")) === "");
        const loaded = await eventually(
          "the pasted image's thumbnail to load",
          async () =>
            driver.executeScript(
              `const rows = [...document.querySelectorAll('.messages [role="article"]')].filter((r) => (r.getAttribute("aria-label") || "").includes("image pasted-"));
               const img = rows.length === 1 ? rows[0].querySelector(".thumb img") : null;
               return img && img.complete && img.naturalWidth > 0 && img.closest(".thumb").classList.contains("loaded")
                 ? { w: img.naturalWidth, h: img.naturalHeight }
                 : null;`,
            ),
          30_000,
        );
        assert.ok(Math.abs(loaded.w / loaded.h - 240 / 160) < 0.05, `thumbnail ${loaded.w}x${loaded.h}`);
        const got = await eventually("bob to see the pasted image", async () => {
          const m = (await bobHistory()).filter((x) => x.attachments?.some((a) => a.name.startsWith("pasted-") && a.fileId));
          return m.length >= 1 && m.every((x) => x.messageId) ? m : null;
        });
        assert.equal(got.length, 1, "bob sees the pasted image exactly once");
        assert.equal(got[0].content, caption, "the composer's text is its caption");
        const att = got[0].attachments[0];
        assert.match(att.name, /^pasted-\d{8}-\d{6}\.png$/);
        assert.equal(att.mime, "image/png");
        assert.equal(att.width, 240);
        assert.equal(att.height, 160);
      } finally {
        await stop(xclip);
      }
    });

    await step("a message in another room raises a notification; clicking it opens that room; the title counts unread", async () => {
      // Only this step's notification on screen (earlier ones, e.g. bob's
      // first message, stay until closed): the click must hit it.
      await run("dunstctl", ["close-all"]);
      await bob("group", "team", "alice");
      await bob("send", "team", "ping from the team");
      const teamRow = By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='team']]");
      await find(teamRow, 30_000);
      // The window title (set by the shell, read from X) carries the unread
      // total the room list shows.
      const expected = await eventually("the team room's unread badge", async () => {
        const badges = await driver.findElements(css("ul[aria-label='Conversations'] .room .badge:not(.mention-badge)"));
        let sum = 0;
        for (const b of badges) sum += Number(await b.getText());
        return sum >= 1 ? sum : null;
      });
      await eventually(`the window title "(${expected}) LeetChat"`, async () =>
        (await run("xdotool", ["search", "--name", `^\\(${expected}\\) LeetChat$`], true)).trim() !== "",
      );
      // dunst shows the notification in a window of its own; click it.
      const popup = await eventually("dunst to show the notification", async () => (await run("xdotool", ["search", "--onlyvisible", "--class", "Dunst"], true)).trim().split("\n")[0]);
      assert.equal(await chatTitle(), "bob", "the direct room with bob is open before the click");
      await run("xdotool", ["mousemove", "--window", popup, "30", "20", "click", "1"]);
      await eventually("the clicked notification to open the team room", async () => (await chatTitle()) === "team");
      await find(rowWith("ping from the team"));
      // Back to bob's room for the steps that follow.
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"));
      await eventually("bob's room to be open again", async () => (await chatTitle()) === "bob");
    });

    const openMenuOf = async (text) => {
      const row = await find(rowWith(text));
      await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' });", row);
      await driver.actions().move({ origin: row }).perform();
      const menuBtn = await row.findElement(css('button[aria-label="Message actions"]'));
      await driver.actions().move({ origin: menuBtn }).click().perform();
    };
    /** Closes the toasts on screen with their Dismiss buttons (for a clear screenshot). */
    const dismissToasts = async () => {
      for (const b of await driver.findElements(css(".toast button[aria-label='Dismiss']"))) {
        try {
          await b.click();
        } catch {}
      }
    };
    const menuItem = (label) => find(By.xpath(`//div[@role='menu']//button[(@role='menuitem' or @role='menuitemradio') and normalize-space()=${xpathString(label)}]`));
    /** The row whose label has `text`, read in the page: what its parts say. */
    const rowParts = (text) =>
      driver.executeScript(
        `const row = [...document.querySelectorAll('.messages [role="article"]')].find((r) => (r.getAttribute("aria-label") || "").includes(arguments[0]));
         if (!row) return null;
         const q = (s) => row.querySelector(s);
         const img = q(".link-card .lp-thumb img");
         return {
           sending: (row.getAttribute("aria-label") || "").includes("Sending"),
           quote: q(".reply-quote .reply-text")?.textContent ?? null,
           code: q(".text code")?.textContent ?? null,
           href: q(".text a.link")?.getAttribute("href") ?? null,
           mention: q(".text .mention")?.textContent ?? null,
           mentionMe: q(".text .mention.mention-me")?.textContent ?? null,
           card: q(".link-card .lp-title")?.textContent ?? null,
           cardImage: img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0,
           chips: [...row.querySelectorAll(".reactions .chip")].map((c) => c.getAttribute("aria-label")),
           pinned: q(".meta .pinned") !== null,
           highlighted: row.querySelectorAll(".text pre code .hljs-keyword").length,
         };`,
        text,
      );

    await step("alice replies to bob with code, an @ mention picked from the list, and a link whose preview card shows", async () => {
      await openMenuOf("hello alice");
      await (await menuItem("Reply")).click();
      await find(css(".reply-bar:not([hidden])"));
      const box = await composer();
      await box.sendKeys("see `cargo test` and ", "@bo");
      // The completion list offers bob; Enter takes him (and sends nothing).
      const option = await find(css("#mention-list:not([hidden]) [role='option']"));
      assert.match(await option.getText(), /@bob/);
      await box.sendKeys(Key.ENTER);
      await eventually("the composer to hold the completed mention", async () => (await box.getAttribute("value")) === "see `cargo test` and @bob ");
      await box.sendKeys(`${siteUrl}/article`, Key.ENTER);
      const shown = await eventually("the sent reply with its quote, code, mention, link and preview card", async () => {
        const r = await rowParts("see `cargo test`");
        return r && !r.sending && r.quote && r.card && r.cardImage > 0 ? r : null;
      });
      assert.equal(shown.quote, "hello alice");
      assert.equal(shown.code, "cargo test");
      assert.equal(shown.mention, "@bob");
      assert.equal(shown.href, `${siteUrl}/article`);
      assert.equal(shown.card, "The LeetChat guide");
      await shot("reply-mention-link-preview.png");
      // Bob, in the terminal, gets the reply, its quote and mention, and the preview.
      const seen = await eventually("bob to see the reply with its preview", async () => {
        const h = await bobHistory();
        const original = h.find((x) => x.content === "hello alice");
        const answer = h.find((x) => x.content.startsWith("see `cargo test`"));
        return original && answer?.linkPreview && answer.replyTo === original.messageId && answer.mentions.length === 1 ? answer : null;
      });
      assert.equal(seen.replyPreview.content, "hello alice");
      assert.equal(seen.linkPreview.title, "The LeetChat guide");
      const human = await bob("history", "alice", "--limit", "3");
      assert.match(human, /🔗 The LeetChat guide: How to run your own chat server/);
    });

    await step("alice reacts from the menu and from the emoji picker, takes one back with its chip; bob sees exactly what stays", async () => {
      await openMenuOf("hello alice");
      await (await menuItem("👍 React")).click();
      await eventually("the 👍 chip", async () => (await rowParts("hello alice"))?.chips.some((c) => c.startsWith("👍 1")));
      await openMenuOf("hello alice");
      await (await menuItem("React…")).click();
      await find(css(".emoji-popover emoji-picker"));
      // The picker's search box is in its shadow DOM.
      const picked = await eventually("the picker to find 'party popper'", async () =>
        driver.executeScript(`
          const root = document.querySelector(".emoji-popover emoji-picker")?.shadowRoot;
          const input = root?.querySelector("input[type=search]");
          if (!input) return false;
          if (input.value !== "party popper") {
            input.value = "party popper";
            input.dispatchEvent(new Event("input", { bubbles: true }));
            return false;
          }
          const hit = [...root.querySelectorAll("[role=option]")].find((o) => (o.getAttribute("aria-label") || "").includes("🎉") || o.textContent.includes("🎉"));
          return hit ? true : false;
        `),
      );
      assert.ok(picked);
      await shot("emoji-picker.png");
      await accessible("the emoji picker");
      await driver.executeScript(`
        const root = document.querySelector(".emoji-popover emoji-picker").shadowRoot;
        [...root.querySelectorAll("[role=option]")].find((o) => (o.getAttribute("aria-label") || "").includes("🎉") || o.textContent.includes("🎉")).click();`);
      await eventually("the 🎉 chip", async () => (await rowParts("hello alice"))?.chips.some((c) => c.startsWith("🎉 1")));
      // Un-react: a click on her own 👍 chip takes it back.
      await driver.executeScript(`
        const row = [...document.querySelectorAll('.messages [role="article"]')].find((r) => (r.getAttribute("aria-label") || "").includes("hello alice"));
        row.querySelector(".reactions .chip.mine[aria-label^='👍']").click();`);
      await eventually("the 👍 chip to go", async () => {
        const chips = (await rowParts("hello alice"))?.chips ?? [];
        return chips.length === 1 && chips[0].startsWith("🎉 1");
      });
      await eventually("bob to see only 🎉 on his message", async () => {
        const original = (await bobHistory()).find((x) => x.content === "hello alice");
        const r = original?.reactions ?? [];
        return r.length === 1 && r[0].emoji === "🎉" && r[0].count === 1;
      });
      await shot("reactions.png");
    });

    await step("alice pins bob's message: the pinned bar shows it and jumps to it; bob sees the pin", async () => {
      await openMenuOf("hello alice");
      await (await menuItem("Pin")).click();
      await eventually("the pin mark", async () => (await rowParts("hello alice"))?.pinned);
      await find(css(".pinned-bar:not([hidden]) .pin-current"));
      await eventually("the pinned bar to show the message", async () =>
        driver.executeScript(`return document.querySelector(".pinned-bar .pin-text")?.textContent === "hello alice";`),
      );
      await shot("pinned.png");
      // Scrolled away first, so showing the pin has to bring it back.
      await driver.executeScript(`document.querySelector(".messages").scrollTop = 1e9;`);
      await clickFresh(css(".pinned-bar .pin-current"));
      await eventually("the pinned message to be shown (flashed)", async () =>
        driver.executeScript(`return [...document.querySelectorAll('.messages [role="article"].flash')].some((r) => (r.getAttribute("aria-label") || "").includes("hello alice"));`),
      );
      await eventually("bob to see the pin", async () => {
        const h = await bobHistory();
        const original = h.find((x) => x.content === "hello alice");
        const rooms = (await bob("--json", "rooms")).split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
        return rooms.some((r) => (r.pinnedMessageIds ?? []).includes(original?.messageId));
      });
    });

    await step("alice sends a code block: it is highlighted in the app and readable in the terminal", async () => {
      const box = await composer();
      await box.click();
      // Shift+Enter breaks the line (pressed and released through the actions API).
      const newline = () => driver.actions().keyDown(Key.SHIFT).sendKeys(Key.ENTER).keyUp(Key.SHIFT).perform();
      await box.sendKeys("```rust");
      await newline();
      await box.sendKeys("fn main() { let answer = 42; }");
      await newline();
      await box.sendKeys("```");
      await eventually("the composer to hold the code block", async () => (await box.getAttribute("value")) === "```rust\nfn main() { let answer = 42; }\n```");
      await box.sendKeys(Key.ENTER);
      const parts = await eventually("the highlighted code block", async () => {
        const r = await rowParts("fn main()");
        return r && !r.sending && r.highlighted > 0 ? r : null;
      });
      assert.ok(parts.highlighted >= 2, "fn and let are keywords");
      await shot("code-block.png");
      const human = await eventually("bob to see the code", async () => {
        const out = await bob("history", "alice", "--limit", "2");
        return out.includes("│ fn main() { let answer = 42; }") ? out : null;
      });
      assert.match(human, /\[rust\]/);
    });

    await step("bob mentions alice in the team room: a mention badge on the room, the mention highlighted inside", async () => {
      await bob("send", "team", "@alice can you look at this?");
      // Read inside the page in one go: the list is redrawn as events come.
      const badge = await eventually(
        "the mention badge on the team room",
        async () =>
          driver.executeScript(
            `return [...document.querySelectorAll("ul[aria-label='Conversations'] .room")].find((b) => b.querySelector(".room-title")?.textContent === "team")?.querySelector(".mention-badge")?.textContent || null;`,
          ),
        30_000,
      );
      assert.equal(badge, "@");
      await shot("mention-badge.png");
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='team']]"));
      const parts = await eventually("the highlighted mention", async () => (await rowParts("can you look at this"))?.mentionMe);
      assert.equal(parts, "@alice");
      await shot("mentioned.png");
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"));
      await eventually("bob's room to be open again", async () => (await chatTitle()) === "bob");
    });

    await step("bob sets a picture in the terminal; alice sees it on his chat in the list, in the header and by his name in the team room", async () => {
      const picPath = path.join(tmp, "bob-face.png");
      writeFileSync(picPath, makePng(400, 240));
      const said = await bob("profile", "--avatar", picPath);
      assert.match(said, /picture \/api\/files\//);
      const loadedIn = (selector) =>
        driver.executeScript(
          `const img = document.querySelector(arguments[0]);
           return img && img.complete && img.naturalWidth > 0 ? { w: img.naturalWidth, h: img.naturalHeight } : null;`,
          selector,
        );
      const inList = await eventually(
        "bob's picture on his chat in the list",
        // bob's chat is the open one: its row is the current one.
        async () => loadedIn("ul[aria-label='Conversations'] button.room[aria-current='true'] .avatar img"),
        30_000,
      );
      assert.deepEqual(inList, { w: 256, h: 256 }, "made square by the server");
      await eventually("bob's picture in the open chat's header", async () => loadedIn(".chat-header .avatar img"), 30_000);
      await shot("avatar.png");
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='team']]"));
      await eventually("bob's picture by his name in the team room", async () => loadedIn(".messages .sender .avatar img"), 30_000);
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"));
      await eventually("bob's room to be open again", async () => (await chatTitle()) === "bob");
    });

    await step("notifications: a muted room stays quiet, a 'mentions' room notifies only a mention, reading in the terminal clears the badge and the notification", async () => {
      const roomButton = (name) => By.xpath(`//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()=${xpathString(name)}]]`);
      const openRoom = async (name) => {
        await clickFresh(roomButton(name));
        await eventually(`the ${name} room to be open`, async () => (await chatTitle()) === name);
      };
      const bell = () => find(css(".chat-header .notify-btn"));
      const choose = async (label) => {
        await (await bell()).click();
        await (await menuItem(label)).click();
      };
      const displayed = async () => Number((await run("dunstctl", ["count", "displayed"], true)).trim() || "0");
      const teamBadge = () =>
        driver.executeScript(`return [...document.querySelectorAll("ul[aria-label='Conversations'] .room")].find((b) => b.querySelector(".room-title")?.textContent === "team")?.querySelector(".badge:not(.mention-badge)")?.textContent ?? "";`);
      await run("dunstctl", ["close-all"]);
      await aliceCli("login", "alice");

      // Muted for an hour, from the room's bell: nothing shows.
      await openRoom("team");
      await (await bell()).click();
      await find(By.xpath("//div[@role='menu']//button[normalize-space()='Mute for 1 hour']"));
      await shot("notification-settings.png");
      await accessible("a room's notification menu");
      await (await menuItem("Mute for 1 hour")).click();
      await eventually("the bell to say muted", async () => ((await (await bell()).getAttribute("aria-label")) ?? "").includes("muted until"));
      await openRoom("bob");
      await bob("send", "team", "quiet please");
      await eventually("the team room's unread badge", async () => (await teamBadge()) !== "");
      await sleep(1_500);
      assert.equal(await displayed(), 0, "a muted room notifies nothing");
      await shot("muted-room.png");

      // Mentions only, unmuted: a plain message is quiet, a mention notifies.
      await openRoom("team");
      await choose("Mentions only");
      await eventually("the level to be mentions", async () => ((await (await bell()).getAttribute("aria-label")) ?? "").includes("Mentions only"));
      await choose("Unmute");
      await eventually("the mute to end", async () => !((await (await bell()).getAttribute("aria-label")) ?? "").includes("muted"));
      // Alice's terminal sees the same settings (one truth, every device).
      const rooms = await aliceCli("rooms");
      assert.match(rooms, /team .*notify: mentions/);
      await openRoom("bob");
      await bob("send", "team", "plain again");
      await sleep(1_500);
      assert.equal(await displayed(), 0, "at 'mentions', a plain message notifies nothing");
      await bob("send", "team", "@alice we need you");
      await eventually("the mention's notification", async () => (await displayed()) >= 1);

      // Read in alice's terminal: the app's badge clears and the notification goes.
      await aliceCli("read", "team");
      await eventually("the team badge to clear", async () => (await teamBadge()) === "");
      await eventually("the notification to be withdrawn", async () => (await displayed()) === 0);
    });

    await step("alice searches messages: one only the server has is found, its words marked, and opens in its chat with the history around it", async () => {
      await cli(path.join(tmp, "carol"), ["register", "carol"]);
      const archive = (await bob("group", "archive", "carol")).split("\t")[0].trim();
      await bob("send", archive, "the blue whale migrates in spring");
      for (let i = 1; i <= 90; i++) await bob("send", archive, `filler ${i}`);
      // Alice joins after: her device gets the newest page, not the whale.
      await bob("add", archive, "alice");
      await eventually("the archive room in alice's list", async () =>
        driver.executeScript(`return [...document.querySelectorAll("ul[aria-label='Conversations'] .room")].some((b) => b.querySelector(".room-title")?.textContent === "archive");`),
      );
      const filter = await find(css("input.room-filter"));
      await filter.click();
      await filter.sendKeys("WHALE migr");
      await eventually("the found message, its words marked", async () =>
        driver.executeScript(
          `return [...document.querySelectorAll(".search-result")].some((b) => b.textContent.includes("the blue whale migrates in spring") && [...b.querySelectorAll("mark")].map((m) => m.textContent).join(",") === "whale,migrates");`,
        ),
      );
      await shot("search-results.png");
      await accessible("the message search results");
      await clickFresh(By.xpath(`//button[contains(@class,'search-result') and contains(., 'blue whale')]`));
      await eventually("archive to open on the found message (flashed)", async () =>
        (await chatTitle()) === "archive" &&
        driver.executeScript(`return [...document.querySelectorAll('.messages [role="article"].flash')].some((r) => (r.getAttribute("aria-label") || "").includes("blue whale"));`),
      );
      await find(css(".context-bar:not([hidden])"));
      const around = await rowLabels();
      assert.ok(around.some((l) => l.includes("filler 1")), `the history after it: ${around}`);
      assert.ok(!around.some((l) => l.includes("filler 90")), "the newest messages are not part of it");
      await shot("search-context.png");
      await clickFresh(css(".context-bar .jump-latest"));
      await eventually("the newest messages again", async () => (await rowLabels()).some((l) => l.includes("filler 90")));
      assert.equal(await driver.executeScript(`return document.querySelector(".context-bar").hidden;`), true);
      await filter.sendKeys(Key.chord(Key.CONTROL, "a"), Key.BACK_SPACE);
      await eventually("the results to go with the query", async () =>
        driver.executeScript(`return document.querySelector(".search-pane").hidden;`),
      );
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"));
      await eventually("bob's chat open again", async () => (await chatTitle()) === "bob");
    });

    await step("community: alice makes a group and an invite link in its settings, carol joins with it, alice bans her, she cannot come back", async () => {
      const carol = (...args) => cli(path.join(tmp, "carol"), args);
      // A group of alice's own, made in the app.
      await clickFresh(css('button[aria-label="New group"]'));
      const dialog = await find(css("dialog[open]"));
      await (await dialog.findElement(css('input[aria-label="Group name"]'))).sendKeys("club");
      await (await dialog.findElement(css('input[aria-label="Search people"]'))).sendKeys("bob");
      await (await find(By.xpath("//dialog[@open]//label[contains(@class,'user-pick') and contains(., '@bob')]//input"))).click();
      await clickFresh(By.xpath("//dialog[@open]//button[normalize-space()='Create group']"));
      await eventually("the club room to open", async () => (await chatTitle()) === "club", 30_000);

      await clickFresh(css('.chat-header button[aria-label="Chat details"]'));
      await find(By.xpath("//dialog[@open]//h2[normalize-space()='Group settings']"));
      await clickFresh(By.xpath("//dialog[@open]//button[normalize-space()='Create invite link']"));
      const link = await eventually("the new invite link", async () =>
        driver.executeScript(`return document.querySelector("dialog[open] input.invite-link")?.value ?? null;`),
      );
      assert.match(link, /^leetchat:\/\/join\?server=.+&code=[A-Za-z0-9_-]{22,}$/, "a link naming the server and an unguessable code");
      assert.equal(decodeURIComponent(new URL(link).searchParams.get("server")), serverUrl);

      // Carol (the terminal client) joins with exactly what alice copied.
      await carol("join", link);
      const memberRow = By.xpath("//dialog[@open]//ul[@aria-label='Members']/li[contains(., '@carol')]");
      await find(memberRow, 30_000);
      await find(By.xpath("//dialog[@open]//ul[@aria-label='Invite links']/li[contains(., '1 use · never expires')]"), 30_000);
      await shot("group-members.png");

      await clickFresh(By.xpath("//dialog[@open]//button[@aria-label='Actions for carol']"));
      await clickFresh(By.xpath("//div[@role='menu']//button[normalize-space()='Ban…']"));
      // The question opens over the settings: the last dialog open.
      const reason = await find(By.xpath("(//dialog[@open])[last()]//textarea"));
      await reason.sendKeys("spam links");
      await clickFresh(By.xpath("(//dialog[@open])[last()]//button[normalize-space()='Ban']"));
      await eventually("carol gone from the members", async () =>
        driver.executeScript(`return ![...document.querySelectorAll("dialog[open] ul[aria-label='Members'] li")].some((li) => li.textContent.includes("@carol"));`),
        30_000,
      );
      await find(By.xpath("//dialog[@open]//ul[@aria-label='Banned people']/li[contains(., '@carol') and contains(., 'spam links')]"), 30_000);
      await dismissToasts();
      await driver.executeScript(`document.querySelector("dialog[open] ul[aria-label='Invite links']").closest("section").scrollIntoView({ block: "start" });`);
      await shot("group-settings.png");
      await accessible("a group's settings");
      await assert.rejects(carol("join", link), /banned/, "a banned user cannot come back by the link");
      const carolRooms = await carol("rooms");
      assert.ok(!carolRooms.includes("club"), `carol is not in the group: ${carolRooms}`);
      await closeDialog();
    });

    await step("alice joins bob's group by pasting his invite, and reports a message of his", async () => {
      const book = (await bob("group", "book club", "carol")).split("\t")[0].trim();
      await bob("send", book, "first chapter by friday, or else");
      const code = (await bob("invite", book, "--uses", "1")).trim().split(/\s+/)[0];
      await clickFresh(css('button[aria-label="Join a group"]'));
      const input = await find(css('dialog[open] input[name="invite"]'));
      await input.sendKeys(`  ${code}`, Key.ENTER);
      await eventually("the book club room to open", async () => (await chatTitle()) === "book club", 30_000);

      await find(rowWith("first chapter by friday"), 30_000);
      await openMenuOf("first chapter by friday");
      await (await menuItem("Report…")).click();
      await (await find(By.xpath("(//dialog[@open])[last()]//textarea"))).sendKeys("a threat");
      await clickFresh(By.xpath("(//dialog[@open])[last()]//button[normalize-space()='Report']"));
      const reports = await eventually("the report in the admin command's list", async () => {
        const out = await run(SERVER_BIN, ["admin", "reports", "--json"], true, { DATA_DIR: serverData });
        const list = out ? JSON.parse(out).reports : [];
        return list.length ? list : null;
      });
      assert.equal(reports.length, 1);
      assert.equal(reports[0].reason, "a threat");
      assert.equal(reports[0].reporterName, "alice");
      assert.equal(reports[0].content, "first chapter by friday, or else");
    });

    await step("alice's settings: her devices, a new display name bob sees", async () => {
      await clickFresh(css('button[aria-label="Settings"]'));
      await find(By.xpath("//dialog[@open]//ul[@aria-label='Signed-in devices']/li[contains(., 'This device')]"), 30_000);
      await find(By.xpath("//dialog[@open]//p[contains(., '@alice on ')]"));
      const name = await find(css('dialog[open] input[name="displayName"]'));
      await name.clear();
      await name.sendKeys("Alice Liddell");
      await clickFresh(By.xpath("//dialog[@open]//button[normalize-space()='Save name']"));
      await eventually("bob to see alice's new name", async () => {
        const out = await bob("--json", "rooms");
        return out.includes("Alice Liddell");
      }, 30_000, 1_000);
      await dismissToasts();
      await shot("settings.png");
      await closeDialog();
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and .//span[contains(@class,'room-title') and normalize-space()='bob']]"));
      await eventually("bob's chat open again", async () => (await chatTitle()) === "bob");
    });

    await step("keyboard and looks: Ctrl+K goes to a chat by name; no webview menu on plain UI; Settings → Appearance makes the app dark", async () => {
      const ctrl = (k) => driver.actions().keyDown(Key.CONTROL).sendKeys(k).keyUp(Key.CONTROL).perform();
      const switchTo = async (typed, title) => {
        await ctrl("k");
        const input = await find(css("dialog[open] input[role='combobox']"));
        await input.sendKeys(typed);
        await find(By.xpath(`//dialog[@open]//li[@role='option' and @aria-selected='true']/span[normalize-space()=${xpathString(title)}]`));
        if (title === "team") {
          await shot("quick-switcher.png");
          await accessible("the quick switcher");
        }
        await input.sendKeys(Key.ENTER);
        await eventually(`the ${title} chat to open`, async () => (await chatTitle()) === title);
      };
      await switchTo("tea", "team");
      // Ctrl+F in a chat searches its messages only; the chip goes back to every chat.
      await ctrl("f");
      const box = await find(css("input.room-filter"));
      assert.equal(await driver.executeScript("return document.activeElement === arguments[0];", box), true, "the cursor is in the search box");
      await box.sendKeys("alice");
      const roomsOf = () => driver.executeScript(`return [...document.querySelectorAll(".result-room")].map((r) => r.textContent);`);
      const scoped = await eventually("results in the team room only", async () => {
        const rooms = await roomsOf();
        return rooms.length > 0 ? rooms : null;
      });
      assert.ok(scoped.every((r) => r === "team"), `only the team room: ${scoped}`);
      await (await find(css("button.search-scope"))).click();
      await eventually("results from other chats too", async () => (await roomsOf()).some((r) => r !== "team"));
      await box.sendKeys(Key.chord(Key.CONTROL, "a"), Key.BACK_SPACE);
      await eventually("the search to close", async () => (await roomsOf()).length === 0);
      await switchTo("bob", "bob");
      // The app's own menus, or none: the webview's (Reload, Inspect) only in text fields and on a selection.
      const kept = await driver.executeScript(`
        const click = (el) => { const e = new MouseEvent("contextmenu", { bubbles: true, cancelable: true }); el.dispatchEvent(e); return !e.defaultPrevented; };
        window.getSelection()?.removeAllRanges();
        return { sidebar: click(document.querySelector(".sidebar")), header: click(document.querySelector(".chat-header")), composer: click(document.querySelector(".composer textarea")) };`);
      assert.deepEqual(kept, { sidebar: false, header: false, composer: true }, "where the webview's menu is kept");
      await accessible("the chat screen, light");
      await clickFresh(css('button[aria-label="Settings"]'));
      await accessible("the settings screen, light");
      const dark = await find(By.xpath("//dialog[@open]//div[@role='radiogroup' and @aria-label='Theme']//label[normalize-space()='Dark']"));
      await dark.click();
      const looks = await driver.executeScript(`return { theme: document.documentElement.dataset.theme, bg: getComputedStyle(document.documentElement).backgroundColor };`);
      assert.equal(looks.theme, "dark");
      const [r, g, b] = looks.bg.match(/\d+/g).map(Number);
      assert.ok(r + g + b < 150, `a dark background (${looks.bg})`);
      await closeDialog();
      await dismissToasts();
      await shot("dark.png");
      await accessible("the chat screen, dark");
      await ctrl("k");
      await (await find(css("dialog[open] input[role='combobox']"))).sendKeys("b");
      await find(By.xpath("//dialog[@open]//li[@role='option']"));
      await shot("quick-switcher-dark.png");
      await accessible("the quick switcher, dark");
      await (await find(css("dialog[open] input[role='combobox']"))).sendKeys(Key.ESCAPE);
      await eventually("the switcher to close", async () => driver.executeScript(`return document.querySelector("dialog[open]") === null;`));
      await clickFresh(css('button[aria-label="Settings"]'));
      await find(By.xpath("//dialog[@open]//ul[@aria-label='Signed-in devices']/li"), 30_000);
      await shot("settings-dark.png");
      await accessible("the settings screen, dark");
      await (await find(By.xpath("//dialog[@open]//div[@role='radiogroup' and @aria-label='Theme']//label[normalize-space()='Follow the system']"))).click();
      await closeDialog();
    });

    await step("a message sent while the server is down goes out once it is back", async () => {
      await stop(server, "SIGKILL");
      const box = await composer();
      await box.click();
      await box.sendKeys("sent offline", Key.ENTER);
      const row = await find(rowWith("sent offline"));
      const label = await row.getAttribute("aria-label");
      assert.match(label, /Sending/, `the row shows it pending (${label})`);
      await startServer();
      const sent = await eventually(
        "bob to see 'sent offline'",
        async () => {
          const m = (await bobHistory()).filter((x) => x.content === "sent offline");
          return m.length >= 1 ? m : null;
        },
        90_000,
        1_000,
      );
      assert.equal(sent.length, 1, "bob sees it exactly once");
      await eventually(
        "the app to mark it sent",
        async () => !(await (await find(rowWith("sent offline"))).getAttribute("aria-label")).includes("Sending"),
        30_000,
      );
      await sleep(1_000);
      assert.equal((await bobHistory()).filter((x) => x.content === "sent offline").length, 1, "still exactly once");
    });
  } catch (e) {
    keepTmp = true;
    try {
      const shot = await driver?.takeScreenshot();
      if (shot) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(path.join(logs, "failure.png"), shot, "base64");
      }
    } catch {}
    throw e;
  } finally {
    console.error(`e2e: scenario took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
});
