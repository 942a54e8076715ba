// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { member, msg, room } from "./fixtures";
import { matchRooms, nativeMenuAllowed, neighbourRoom, shortcutOf, type KeyPress } from "./keys";

const press = (key: string, over: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...over });

describe("shortcutOf", () => {
  it("knows the app's shortcuts, Ctrl on Linux and Windows, Cmd on macOS", () => {
    expect(shortcutOf(press("k", { ctrlKey: true }), false)).toBe("switcher");
    expect(shortcutOf(press("K", { ctrlKey: true }), false)).toBe("switcher");
    expect(shortcutOf(press("k", { metaKey: true }), true)).toBe("switcher");
    expect(shortcutOf(press("k", { metaKey: true }), false)).toBeNull();
    expect(shortcutOf(press("f", { ctrlKey: true }), false)).toBe("search");
    expect(shortcutOf(press("/", { ctrlKey: true }), false)).toBe("help");
    expect(shortcutOf(press("F1"), false)).toBe("help");
    expect(shortcutOf(press("ArrowUp", { altKey: true }), false)).toBe("prev-room");
    expect(shortcutOf(press("ArrowDown", { altKey: true }), true)).toBe("next-room");
    expect(shortcutOf(press("ArrowDown"), false)).toBeNull();
    expect(shortcutOf(press("k"), false)).toBeNull();
    // A Cyrillic layout types "л" on the K key: still the switcher.
    expect(shortcutOf(press("л", { ctrlKey: true, code: "KeyK" }), false)).toBe("switcher");
    // "/" with Shift on a German layout (Shift+7).
    expect(shortcutOf(press("/", { ctrlKey: true, shiftKey: true, code: "Digit7" }), false)).toBe("help");
  });
  it("takes away the browser's reload, print and view-source keys", () => {
    for (const p of [press("r", { ctrlKey: true }), press("R", { ctrlKey: true, shiftKey: true }), press("p", { ctrlKey: true }), press("u", { ctrlKey: true }), press("F5"), press("F12")]) {
      expect(shortcutOf(p, false)).toBe("blocked");
    }
    // Copy, paste, undo and select-all stay the webview's.
    for (const k of ["c", "v", "x", "z", "a"]) expect(shortcutOf(press(k, { ctrlKey: true }), false)).toBeNull();
  });
});

describe("nativeMenuAllowed", () => {
  it("keeps the webview's menu in text fields and on a selection only", () => {
    const text = document.createElement("textarea");
    const input = Object.assign(document.createElement("input"), { type: "search" });
    const box = Object.assign(document.createElement("input"), { type: "checkbox" });
    const div = document.createElement("div");
    const inner = document.createElement("span");
    div.appendChild(inner);
    expect(nativeMenuAllowed(text, "")).toBe(true);
    expect(nativeMenuAllowed(input, "")).toBe(true);
    expect(nativeMenuAllowed(box, "")).toBe(false);
    expect(nativeMenuAllowed(inner, "")).toBe(false);
    expect(nativeMenuAllowed(inner, "some words")).toBe(true);
    expect(nativeMenuAllowed(null, "")).toBe(false);
  });
});

describe("matchRooms and neighbourRoom", () => {
  const rooms = [
    room({ roomId: "g1", type: "group", name: "Design team", lastMessage: msg({ createdAt: "2024-03-05T10:00:00Z" }) }),
    room({ roomId: "g2", type: "group", name: "Team lunch", lastMessage: msg({ createdAt: "2024-03-05T12:00:00Z" }) }),
    room({ roomId: "d1", type: "direct", members: [member("me"), member("bob", { displayName: "Zoë Ström" })], lastMessage: msg({ createdAt: "2024-03-05T11:00:00Z" }) }),
  ];
  it("ranks titles that start with the query, then a word that does, then the rest", () => {
    expect(matchRooms(rooms, "me", "team").map((m) => m.room.roomId)).toEqual(["g2", "g1"]);
    expect(matchRooms(rooms, "me", "ea").map((m) => m.room.roomId)).toEqual(["g2", "g1"]);
    expect(matchRooms(rooms, "me", "zoe strom").map((m) => m.title)).toEqual(["Zoë Ström"]);
    expect(matchRooms(rooms, "me", "").map((m) => m.room.roomId)).toEqual(["g2", "d1", "g1"]);
    expect(matchRooms(rooms, "me", "nothing")).toEqual([]);
    const named = [...rooms, room({ roomId: "g3", type: "group", name: "Team", lastMessage: null })];
    expect(matchRooms(named, "me", "team").map((m) => m.room.roomId)).toEqual(["g3", "g2", "g1"]);
  });
  it("steps through the list's order, wrapping", () => {
    expect(neighbourRoom(rooms, "me", "g2", 1)).toBe("d1");
    expect(neighbourRoom(rooms, "me", "g1", 1)).toBe("g2");
    expect(neighbourRoom(rooms, "me", "g2", -1)).toBe("g1");
    expect(neighbourRoom(rooms, "me", null, 1)).toBe("g2");
    expect(neighbourRoom([], "me", null, 1)).toBeNull();
  });
});
