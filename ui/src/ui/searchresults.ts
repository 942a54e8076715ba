// Message search results in the side pane, under the chats whose names
// match: one row per message with its chat, sender and time, and the words
// it was found by marked in its text.

import type { MessageView, RoomView } from "../types";
import { roomTitle, senderName } from "../logic/rooms";
import { type SearchQuery, snippet } from "../logic/search";
import { parseTime, shortWhen } from "../logic/time";
import { h, show } from "./dom";

/** What the results show. */
export interface ResultsModel {
  query: SearchQuery;
  results: readonly MessageView[];
  /** Results came from the server too (false: this device's only, offline). */
  fromServer: boolean;
  /** A page is being read. */
  loading: boolean;
  /** More results can be read. */
  more: boolean;
  /** Why the last read failed. */
  error: string | null;
}

/** The side pane's message results. */
export class SearchResults {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly status: HTMLElement;
  private readonly moreButton: HTMLButtonElement;

  constructor(
    private readonly onOpen: (msg: MessageView) => void,
    onMore: () => void,
  ) {
    this.list = h("ul", { class: "search-results", "aria-label": "Messages found" });
    this.status = h("p", { class: "muted search-status", role: "status", "aria-live": "polite" });
    this.moreButton = h("button", { type: "button", class: "link search-more", onclick: onMore }, "More results");
    this.el = h(
      "section",
      { class: "search-pane", "aria-label": "Messages", hidden: true },
      h("h3", { class: "search-heading" }, "Messages"),
      this.list,
      this.status,
      this.moreButton,
    );
  }

  /** Hides the results (no query). */
  hide(): void {
    show(this.el, false);
    this.list.replaceChildren();
  }

  /** Shows `m`, titles and names from `rooms`. */
  render(m: ResultsModel, rooms: ReadonlyMap<string, RoomView>, myUserId: string, now: Date): void {
    show(this.el, true);
    this.list.replaceChildren(
      ...m.results.map((msg) => {
        const room = rooms.get(msg.roomId);
        const when = parseTime(msg.createdAt);
        const s = snippet(msg.content, m.query);
        const text = h("span", { class: "result-text" });
        let at = 0;
        for (const mark of s.marks) {
          text.append(s.text.slice(at, mark.start), h("mark", null, s.text.slice(mark.start, mark.end)));
          at = mark.end;
        }
        text.append(s.text.slice(at));
        const title = room ? roomTitle(room, myUserId) : "A chat you left";
        return h(
          "li",
          null,
          h(
            "button",
            {
              type: "button",
              class: "search-result",
              dataset: { messageId: msg.messageId ?? "", roomId: msg.roomId },
              onclick: () => this.onOpen(msg),
            },
            h(
              "span",
              { class: "result-head" },
              h("strong", { class: "result-room" }, title),
              h("span", { class: "result-sender" }, msg.senderId === myUserId ? "You" : senderName(room, msg.senderId)),
              h("time", { class: "result-when", datetime: msg.createdAt }, when ? shortWhen(when, now) : ""),
            ),
            text,
          ),
        );
      }),
    );
    let status = "";
    if (m.error) status = `Search failed: ${m.error}`;
    else if (m.loading) status = "Searching…";
    else if (m.results.length === 0) status = m.fromServer ? "No messages found." : "No messages found on this device.";
    if (!m.loading && !m.error && !m.fromServer) status += (status ? " " : "") + "Offline: only messages on this device were searched.";
    this.status.textContent = status;
    show(this.status, status !== "");
    show(this.moreButton, m.more && !m.loading);
  }
}
