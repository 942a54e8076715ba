// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { sendFilesDialog } from "./senddialog";

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};
const dialog = () => document.querySelector("dialog") as HTMLDialogElement;
const button = (text: string) => [...dialog().querySelectorAll("button")].find((b) => b.textContent === text) as HTMLButtonElement;

afterEach(() => {
  for (const d of document.querySelectorAll("dialog")) d.remove();
});

describe("sendFilesDialog", () => {
  it("shows each file with its preview or size and the composer's text as caption; Send gives the caption", async () => {
    const answer = sendFilesDialog(
      "Bob",
      [
        { name: "beach.png", preview: Promise.resolve({ size: 2_516_582, thumbnail: "data:image/png;base64,AAAA" }) },
        { name: "notes.pdf", preview: Promise.resolve({ size: 184_320, thumbnail: null }) },
        { name: "gone.txt", preview: Promise.reject("cannot read /tmp/gone.txt: No such file") },
      ],
      "look at this",
    );
    await settle();
    expect(dialog().querySelector("h2")?.textContent).toBe("Send 3 files");
    const items = [...dialog().querySelectorAll(".send-file")];
    expect(items.map((i) => i.querySelector(".send-file-name")?.textContent)).toEqual(["beach.png", "notes.pdf", "gone.txt"]);
    expect(items[0]?.querySelector("img")?.getAttribute("alt")).toBe("Preview of beach.png");
    expect(items[1]?.querySelector(".send-file-size")?.textContent).toBe("180 KB");
    expect(items[2]?.classList.contains("unreadable")).toBe(true);
    expect(items[2]?.textContent).toContain("Cannot read /tmp/gone.txt");
    const caption = dialog().querySelector("textarea") as HTMLTextAreaElement;
    expect(caption.value).toBe("look at this");
    expect(document.activeElement).toBe(caption);
    caption.value = "look at these";
    button("Send").click();
    expect(await answer).toBe("look at these");
  });

  it("sends nothing when cancelled, and Enter in the caption sends", async () => {
    const cancelled = sendFilesDialog("Team", [{ name: "a.png", preview: Promise.resolve({ size: 10, thumbnail: null }) }], "");
    await settle();
    expect(dialog().querySelector("h2")?.textContent).toBe("Send a.png");
    button("Cancel").click();
    expect(await cancelled).toBeNull();
    const entered = sendFilesDialog("Team", [{ name: "a.png", preview: Promise.resolve({ size: 10, thumbnail: null }) }], "hi");
    await settle();
    const caption = dialog().querySelector("textarea") as HTMLTextAreaElement;
    caption.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true, cancelable: true }));
    expect(dialog()).not.toBeNull();
    caption.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    expect(await entered).toBe("hi");
  });
});
