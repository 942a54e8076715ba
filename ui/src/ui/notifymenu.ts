// The notification menus: a room's (from the bell in its header) and the
// default level of rooms set to follow it (from the bell in the side
// pane). Choices go to the server, which tells every device of the user.

import type { Api } from "../tauri";
import { errorMessage } from "../tauri";
import type { NotifyLevel, RoomView } from "../types";
import { LEVELS, MUTES, isMuted, levelLabel, muteUntil } from "../logic/notify";
import { openMenu, type MenuItem } from "./menu";
import { toast } from "./toast";

/** Runs a settings change, saying what went wrong if it did. */
async function change(what: Promise<unknown>): Promise<void> {
  try {
    await what;
  } catch (err) {
    toast(`Could not change notifications: ${errorMessage(err)}`);
  }
}

/** A room's notification settings. */
export function openRoomNotifyMenu(anchor: HTMLElement, room: RoomView, notifyDefault: NotifyLevel, api: Api): void {
  const now = Date.now();
  const muted = isMuted(room, now);
  const set = (level: NotifyLevel | "default") => () => void change(api.setRoomNotify(room.roomId, level, null, false));
  const items: MenuItem[] = [
    ...LEVELS.map((l) => ({ label: l.label, checked: !room.notifyFollowsDefault && room.notifyLevel === l.level, run: set(l.level) })),
    { label: `Default (${levelLabel(notifyDefault)})`, checked: room.notifyFollowsDefault, run: set("default") },
    ...(muted
      ? [{ label: "Unmute", separated: true, run: () => void change(api.setRoomNotify(room.roomId, levelOf(room), null, true)) }]
      : MUTES.map((m, i) => ({
          label: m.label,
          separated: i === 0,
          run: () => void change(api.setRoomNotify(room.roomId, levelOf(room), muteUntil(m.ms, Date.now()), true)),
        }))),
  ];
  openMenu(anchor, items, "Notifications for this chat");
}

/** The level to keep when only the mute changes. */
function levelOf(room: RoomView): NotifyLevel | "default" {
  return room.notifyFollowsDefault ? "default" : room.notifyLevel;
}

/** The default level of every room that follows it. */
export function openDefaultNotifyMenu(anchor: HTMLElement, current: NotifyLevel, api: Api): void {
  openMenu(
    anchor,
    LEVELS.map((l) => ({ label: l.label, checked: current === l.level, run: () => void change(api.setNotifyDefault(l.level)) })),
    "Default notifications",
  );
}
