// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { member, room } from "../logic/fixtures";
import type { ImageSource } from "./attachments";
import { avatarEl, fillAvatar } from "./avatar";
import { RoomList } from "./roomlist";

/** Pictures that load when told to. */
function pictures(): ImageSource & { resolve(fileId: string): Promise<void>; fail(fileId: string): Promise<void> } {
  const waiting = new Map<string, { ok(url: string): void; no(e: unknown): void }>();
  const done = new Map<string, string>();
  return {
    peek: (fileId) => done.get(fileId),
    load: (fileId) =>
      new Promise<string>((ok, no) => {
        waiting.set(fileId, { ok, no });
      }),
    async resolve(fileId) {
      done.set(fileId, `blob:${fileId}`);
      waiting.get(fileId)?.ok(`blob:${fileId}`);
      await Promise.resolve();
    },
    async fail(fileId) {
      waiting.get(fileId)?.no(new Error("gone"));
      await Promise.resolve();
    },
  };
}

describe("avatars", () => {
  it("show the initials at once and the picture over them once it loads", async () => {
    const images = pictures();
    const el = avatarEl("BO", "/api/files/f1", images);
    expect(el.textContent).toBe("BO");
    expect(el.querySelector("img")).toBeNull();
    await images.resolve("f1");
    expect(el.querySelector("img")?.getAttribute("src")).toBe("blob:f1");
    expect(el.textContent).toBe("BO");
  });

  it("keep the initials when there is no picture or it cannot be read", async () => {
    const images = pictures();
    const load = vi.spyOn(images, "load");
    const none = avatarEl("AL", null, images);
    expect(load).not.toHaveBeenCalled();
    expect(none.querySelector("img")).toBeNull();
    const broken = avatarEl("AL", "/api/files/f2", images);
    await images.fail("f2");
    expect(broken.querySelector("img")).toBeNull();
    expect(broken.textContent).toBe("AL");
  });

  it("drop a picture that arrives after the avatar was refilled with another", async () => {
    const images = pictures();
    const el = avatarEl("BO", "/api/files/old", images);
    fillAvatar(el, "BO", "/api/files/new", images);
    await images.resolve("old");
    expect(el.querySelector("img")).toBeNull();
    await images.resolve("new");
    expect(el.querySelector("img")?.getAttribute("src")).toBe("blob:new");
  });

  it("show a direct partner's picture in the room list, known pictures without a flash", async () => {
    const images = pictures();
    await images.resolve("f1");
    const list = new RoomList(vi.fn(), images);
    list.render(
      [room({ members: [member("alice"), member("bob", { avatarUrl: "/api/files/f1" })] })],
      "alice",
      null,
      new Date(),
      new Map(),
    );
    const avatar = list.el.querySelector(".avatar");
    expect(avatar?.querySelector("img")?.getAttribute("src")).toBe("blob:f1");
    expect(avatar?.textContent).toBe("B");
  });
});
