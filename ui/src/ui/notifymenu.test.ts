// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { room } from "../logic/fixtures";
import { FOREVER } from "../logic/notify";
import type { Api } from "../tauri";
import { openDefaultNotifyMenu, openRoomNotifyMenu } from "./notifymenu";

const api = () =>
  ({
    setRoomNotify: vi.fn(async () => room()),
    setNotifyDefault: vi.fn(async () => "all"),
  }) as unknown as Api & { setRoomNotify: ReturnType<typeof vi.fn>; setNotifyDefault: ReturnType<typeof vi.fn> };

const items = () => [...document.querySelectorAll<HTMLButtonElement>('[role="menu"] button')];

describe("notification menus", () => {
  afterEach(() => {
    document.body.replaceChildren();
  });

  it("tick the room's level and set a level or a mute, keeping the other", () => {
    const a = api();
    const anchor = document.body.appendChild(document.createElement("button"));
    openRoomNotifyMenu(anchor, room({ notifyLevel: "mentions", notifyFollowsDefault: false }), "all", a);
    const all = items();
    expect(all.map((b) => b.textContent)).toEqual([
      "All messages",
      "Mentions only",
      "Nothing",
      "Default (All messages)",
      "Mute for 1 hour",
      "Mute for 8 hours",
      "Mute for 1 week",
      "Mute until I unmute",
    ]);
    expect(all.filter((b) => b.getAttribute("aria-checked") === "true").map((b) => b.textContent)).toEqual(["Mentions only"]);
    all[7]?.click();
    expect(a.setRoomNotify).toHaveBeenCalledWith(expect.any(String), "mentions", FOREVER, true);
  });

  it("offer Unmute for a muted room, and 'default' for a room that follows it", () => {
    const a = api();
    const anchor = document.body.appendChild(document.createElement("button"));
    openRoomNotifyMenu(anchor, room({ muteUntil: FOREVER, notifyFollowsDefault: true }), "none", a);
    const all = items();
    expect(all.map((b) => b.textContent)).toContain("Unmute");
    expect(all.find((b) => b.getAttribute("aria-checked") === "true")?.textContent).toBe("Default (Nothing)");
    all.find((b) => b.textContent === "Unmute")?.click();
    expect(a.setRoomNotify).toHaveBeenCalledWith(expect.any(String), "default", null, true);
  });

  it("set the default level", () => {
    const a = api();
    const anchor = document.body.appendChild(document.createElement("button"));
    openDefaultNotifyMenu(anchor, "all", a);
    items()[1]?.click();
    expect(a.setNotifyDefault).toHaveBeenCalledWith("mentions");
  });
});
