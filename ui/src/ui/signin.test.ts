// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Api, SignInArgs } from "../tauri";
import { NO_KEYRING, NOT_KEPT } from "../tauri";
import { signInScreen } from "./signin";

/** A sign-in screen whose Api answers `signIn` with `answers`, in turn. */
function screen(answers: Array<() => Promise<unknown>>) {
  const calls: SignInArgs[] = [];
  const api = {
    signIn: vi.fn(async (args: SignInArgs) => {
      calls.push(args);
      const next = answers.shift();
      if (!next) throw new Error("no more answers");
      return next();
    }),
  } as unknown as Api;
  const done = vi.fn();
  const el = signInScreen(api, done);
  document.body.replaceChildren(el);
  const set = (name: string, value: string): void => {
    (el.querySelector(`input[name=${name}]`) as HTMLInputElement).value = value;
  };
  set("server", "http://localhost:3001");
  set("username", "alice");
  set("password", "password-alice");
  const submit = (): void => {
    (el.querySelector("form") as HTMLFormElement).requestSubmit();
  };
  const ask = (): HTMLElement => el.querySelector(".keyring-ask") as HTMLElement;
  return { el, calls, done, submit, ask };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("sign-in without an OS keyring", () => {
  it("asks before keeping the tokens in a file, and signs in with the file store when agreed", async () => {
    const s = screen([
      () => Promise.reject(`${NO_KEYRING} no OS keyring is available (no Secret Service)`),
      () => Promise.resolve({ userId: "u1", userName: "alice" }),
    ]);
    expect(s.ask().hidden).toBe(true);
    s.submit();
    await settle();
    expect(s.ask().hidden).toBe(false);
    expect(s.ask().getAttribute("role")).toBe("alertdialog");
    expect(s.done).not.toHaveBeenCalled();
    expect(s.calls[0]?.useFileStore).toBeUndefined();
    const yes = [...s.ask().querySelectorAll("button")].find((b) => b.textContent === "Keep it in a file");
    yes?.click();
    await settle();
    expect(s.calls[1]?.useFileStore).toBe(true);
    expect(s.done).toHaveBeenCalledOnce();
    expect(s.ask().hidden).toBe(true);
  });

  it("stays signed out when the user declines, saying why", async () => {
    const s = screen([() => Promise.reject(`${NO_KEYRING} none here`)]);
    s.submit();
    await settle();
    const no = [...s.ask().querySelectorAll("button")].find((b) => b.textContent === "Cancel");
    no?.click();
    expect(s.ask().hidden).toBe(true);
    expect(s.el.querySelector(".error")?.textContent).toContain("no keyring");
    expect(s.calls).toHaveLength(1);
    expect(s.done).not.toHaveBeenCalled();
  });

  it("shows other errors in words, without asking", async () => {
    const s = screen([() => Promise.reject("server refused: wrong userName or password (unauthenticated)")]);
    s.submit();
    await settle();
    expect(s.ask().hidden).toBe(true);
    expect(s.el.querySelector(".error")?.textContent).toBe("Wrong user name or password.");
  });
});

describe("creating an account", () => {
  it("takes an invite code for servers that register by invite only, and sends none when it is blank", async () => {
    const s = screen([
      () => Promise.resolve({ userId: "u1", userName: "alice" }),
      () => Promise.resolve({ userId: "u2", userName: "alice" }),
    ]);
    const inviteField = (): HTMLElement => (s.el.querySelector("input[name=invite]") as HTMLElement).closest("label") as HTMLElement;
    expect(inviteField().hidden).toBe(true);
    const toggle = [...s.el.querySelectorAll("button")].find((b) => b.textContent === "Create an account");
    toggle?.click();
    expect(inviteField().hidden).toBe(false);
    (s.el.querySelector("input[name=invite]") as HTMLInputElement).value = "  3q2-7wZ0yV1mXkQ8  ";
    s.submit();
    await settle();
    expect(s.calls[0]).toMatchObject({ register: true, invite: "3q2-7wZ0yV1mXkQ8" });
    (s.el.querySelector("input[name=invite]") as HTMLInputElement).value = "   ";
    s.submit();
    await settle();
    expect(s.calls[1]?.invite).toBeUndefined();
  });
});

describe("sign-up that made the account but could not keep the sign-in (issue #21)", () => {
  it("offers the file, then signs in to the account instead of registering it again", async () => {
    const s = screen([
      () => Promise.reject(`${NOT_KEPT} the keyring refused the secret`),
      () => Promise.resolve({ userId: "u1", userName: "alice" }),
    ]);
    [...s.el.querySelectorAll("button")].find((b) => b.textContent === "Create an account")?.click();
    s.submit();
    await settle();
    expect(s.calls[0]?.register).toBe(true);
    expect(s.ask().hidden).toBe(false);
    expect(s.ask().textContent).toContain("Your account was created");
    [...s.ask().querySelectorAll("button")].find((b) => b.textContent === "Keep it in a file")?.click();
    await settle();
    expect(s.calls[1]).toMatchObject({ register: false, useFileStore: true, userName: "alice", password: "password-alice" });
    expect(s.done).toHaveBeenCalledOnce();
  });
});

describe("what the form tells a newcomer (issue #21)", () => {
  const toRegister = (el: HTMLElement) => [...el.querySelectorAll("button")].find((b) => b.textContent === "Create an account")?.click();

  it("says a taken name in words, not the server's refusal", async () => {
    const s = screen([() => Promise.reject("server refused: that userName is taken (conflict)")]);
    toRegister(s.el);
    s.submit();
    await settle();
    const text = s.el.querySelector(".error")?.textContent ?? "";
    expect(text).toBe("That user name is taken. Choose another, or sign in if it is yours.");
  });

  it("says a wrong password in words when signing in", async () => {
    const s = screen([() => Promise.reject("server refused: wrong userName or password (unauthenticated)")]);
    s.submit();
    await settle();
    expect(s.el.querySelector(".error")?.textContent).toBe("Wrong user name or password.");
  });

  it("shows the password rule before any submit, and checks it without asking the server", async () => {
    const s = screen([]);
    const hint = () => s.el.querySelector<HTMLElement>(".password-hint") as HTMLElement;
    const password = s.el.querySelector("input[name=password]") as HTMLInputElement;
    expect(hint()?.hidden ?? true).toBe(true);
    toRegister(s.el);
    expect(hint().hidden).toBe(false);
    expect(hint().textContent).toContain("at least 8 characters");
    expect(password.getAttribute("aria-describedby")).toBe(hint().id);
    expect(password.minLength).toBe(8);
    password.value = "short";
    s.submit();
    await settle();
    expect(s.calls).toHaveLength(0);
    expect(s.el.querySelector(".error")?.textContent).toBe("Use at least 8 characters for your password.");
  });
});

describe("the server address the form suggests (issue #21)", () => {
  const address = (el: HTMLElement) => (el.querySelector("input[name=server]") as HTMLInputElement).value;
  const api = { signIn: vi.fn() } as unknown as Api;
  afterEach(() => localStorage.clear());

  it("takes the address the app was started with over the built-in one", () => {
    localStorage.clear();
    expect(address(signInScreen(api, vi.fn()))).toBe("http://localhost:3001");
    expect(address(signInScreen(api, vi.fn(), undefined, { server: "https://chat.example.org", from: "config" }))).toBe("https://chat.example.org");
  });

  it("a link or LEETCHAT_SERVER wins over the remembered address, config.json does not", () => {
    localStorage.setItem("leetchat.server", "http://remembered.example");
    expect(address(signInScreen(api, vi.fn(), undefined, { server: "https://chat.example.org", from: "config" }))).toBe("http://remembered.example");
    expect(address(signInScreen(api, vi.fn(), undefined, { server: "https://env.example.org", from: "env" }))).toBe("https://env.example.org");
    expect(address(signInScreen(api, vi.fn(), undefined, { server: "https://link.example.org", from: "link" }))).toBe("https://link.example.org");
  });
});
