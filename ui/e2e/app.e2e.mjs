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
import { mkdtempSync, rmSync, existsSync, openSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Builder, By, Capabilities, Key, until } from "selenium-webdriver";

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
let keepTmp = false;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback TCP port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** Polls `check` (sync or async) until it returns a truthy value; returns it. */
async function eventually(what, check, timeoutMs = 20_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${why})`);
    }
    await sleep(everyMs);
  }
}

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
  });
  const s = server;
  await eventually("the server to listen", async () => {
    if (s.exitCode !== null) throw new Error(`server exited with ${s.exitCode}`);
    return portOpen(serverPort);
  });
}

/** Runs bob's terminal client; resolves with stdout. */
function bob(...args) {
  return new Promise((resolve, reject) => {
    execFile(
      CLI_BIN,
      ["--server", serverUrl, "--data-dir", bobData, "--credentials", "file", ...args],
      { env: { ...process.env, LEETCHAT_PASSWORD: PASSWORD }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`leetchat ${args.join(" ")} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
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

async function find(locator, timeoutMs = 20_000) {
  return driver.wait(until.elementLocated(locator), timeoutMs, `element ${locator} not found`);
}

/** A message row whose aria-label contains `text`. */
function rowWith(text) {
  return By.xpath(`//div[contains(@class,'row') and @role='article' and contains(@aria-label, ${xpathString(text)})]`);
}

function xpathString(s) {
  if (!s.includes("'")) return `'${s}'`;
  return `concat('${s.split("'").join(`', "'", '`)}')`;
}

/** Finds and clicks `locator`, finding it again when the UI re-rendered the
 * element in between (a list redrawn by a live update). */
async function clickFresh(locator, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await find(locator, Math.max(1, deadline - Date.now()))).click();
      return;
    } catch (e) {
      if (e?.name !== "StaleElementReferenceError" || Date.now() > deadline) throw e;
    }
  }
}

async function rowLabels() {
  const rows = await driver.findElements(css('.messages [role="article"]'));
  return Promise.all(rows.map((r) => r.getAttribute("aria-label")));
}

async function composer() {
  return find(css('textarea[aria-label="Message"]'));
}

// ---- setup and teardown -------------------------------------------------

before(async () => {
  const { mkdirSync } = await import("node:fs");
  for (const d of [serverData, bobData, appHome, logs]) mkdirSync(d, { recursive: true });
  for (const bin of [SERVER_BIN, CLI_BIN, APP_BIN]) assert.ok(existsSync(bin), `${bin} is missing: build it first`);

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
    await step("sign up as alice", async () => {
      const toggle = await find(By.xpath("//button[normalize-space()='Create an account']"));
      await toggle.click();
      const serverInput = await find(css('input[name="server"]'));
      await serverInput.clear();
      await serverInput.sendKeys(serverUrl);
      await (await find(css('input[name="username"]'))).sendKeys("alice");
      await (await find(css('input[name="password"]'))).sendKeys(PASSWORD);
      await (await find(css('form.signin-form button[type="submit"]'))).click();
      await find(css('ul[aria-label="Conversations"]'), 30_000);
    });

    await step("bob's direct message shows up and opens", async () => {
      await bob("dm", "alice");
      await bob("send", "alice", "hello alice");
      await clickFresh(By.xpath("//ul[@aria-label='Conversations']//button[contains(@class,'room') and contains(@aria-label,'bob')]"), 30_000);
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
