import { describe, expect, it } from "vitest";
import {
  UploadTracker,
  baseName,
  formatSize,
  isImageMime,
  pastedExtension,
  pastedName,
  progressPercent,
  thumbBox,
  THUMB_MAX,
  THUMB_MIN,
} from "./files";

describe("formatSize", () => {
  it("writes bytes below 1 KB as bytes", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(1)).toBe("1 B");
    expect(formatSize(1023)).toBe("1023 B");
  });
  it("uses one decimal below 10 of a unit, and drops a trailing .0", () => {
    expect(formatSize(1024)).toBe("1 KB");
    expect(formatSize(1536)).toBe("1.5 KB");
    expect(formatSize(1.2 * 1024 * 1024)).toBe("1.2 MB");
    expect(formatSize(9.94 * 1024 * 1024)).toBe("9.9 MB");
  });
  it("uses whole numbers from 10 of a unit", () => {
    expect(formatSize(15.3 * 1024 * 1024)).toBe("15 MB");
    expect(formatSize(512 * 1024)).toBe("512 KB");
    expect(formatSize(3 * 1024 ** 3)).toBe("3 GB");
  });
  it("moves up a unit when rounding reaches 1024", () => {
    expect(formatSize(1024 * 1024 - 1)).toBe("1 MB");
    expect(formatSize(1023.4 * 1024)).toBe("1023 KB");
  });
  it("copes with nonsense", () => {
    expect(formatSize(-5)).toBe("0 B");
    expect(formatSize(Number.NaN)).toBe("0 B");
    expect(formatSize(5 * 1024 ** 5)).toBe("5120 TB");
  });
});

describe("isImageMime", () => {
  it("recognises the picture types shown inline", () => {
    for (const m of ["image/png", "image/jpeg", "image/gif", "image/webp", "IMAGE/PNG", "image/jpeg; charset=binary"]) {
      expect(isImageMime(m)).toBe(true);
    }
  });
  it("rejects SVG, other types and nothing", () => {
    for (const m of ["image/svg+xml", "application/pdf", "text/plain", "image", "", null, undefined]) {
      expect(isImageMime(m)).toBe(false);
    }
  });
});

describe("thumbBox", () => {
  it("keeps small images at their own size", () => {
    expect(thumbBox(200, 100)).toEqual({ width: 200, height: 100 });
  });
  it("fits large images within 320 px, keeping the aspect ratio", () => {
    expect(thumbBox(4000, 3000)).toEqual({ width: 320, height: 240 });
    expect(thumbBox(1080, 1920)).toEqual({ width: 180, height: 320 });
    expect(thumbBox(1000, 1000)).toEqual({ width: 320, height: 320 });
  });
  it("keeps extreme strips at least THUMB_MIN wide or tall", () => {
    expect(thumbBox(10_000, 10)).toEqual({ width: THUMB_MAX, height: THUMB_MIN });
    expect(thumbBox(1, 2000)).toEqual({ width: THUMB_MIN, height: THUMB_MAX });
  });
  it("uses a fixed box when the size is unknown", () => {
    expect(thumbBox(null, null)).toEqual({ width: 240, height: 180 });
    expect(thumbBox(undefined, 100)).toEqual({ width: 240, height: 180 });
    expect(thumbBox(0, 100)).toEqual({ width: 240, height: 180 });
  });
  it("takes another limit", () => {
    expect(thumbBox(800, 400, 100)).toEqual({ width: 100, height: 50 });
  });
});

describe("progressPercent", () => {
  it("is a floored, clamped percentage", () => {
    expect(progressPercent(0, 100)).toBe(0);
    expect(progressPercent(45, 100)).toBe(45);
    expect(progressPercent(999, 1000)).toBe(99);
    expect(progressPercent(1000, 1000)).toBe(100);
    expect(progressPercent(2000, 1000)).toBe(100);
  });
  it("is 0 without a total", () => {
    expect(progressPercent(10, 0)).toBe(0);
    expect(progressPercent(-1, 10)).toBe(0);
    expect(progressPercent(Number.NaN, 10)).toBe(0);
  });
});

describe("UploadTracker", () => {
  it("tracks each message by tempId and says when its percentage changed", () => {
    const t = new UploadTracker();
    expect(t.update({ tempId: "a", name: "x.png", sent: 10, total: 100 })).toBe(true);
    expect(t.update({ tempId: "b", name: "y.pdf", sent: 50, total: 100 })).toBe(true);
    expect(t.percents.get("a")).toBe(10);
    expect(t.percents.get("b")).toBe(50);
    expect(t.update({ tempId: "a", name: "x.png", sent: 10, total: 100 })).toBe(false);
    expect(t.update({ tempId: "a", name: "x.png", sent: 100, total: 100 })).toBe(true);
    expect(t.percents.get("a")).toBe(100);
  });
  it("adds up the files of one message", () => {
    const t = new UploadTracker();
    t.update({ tempId: "a", name: "one", sent: 100, total: 100 });
    t.update({ tempId: "a", name: "two", sent: 0, total: 300 });
    expect(t.percents.get("a")).toBe(25);
    t.update({ tempId: "a", name: "two", sent: 150, total: 300 });
    expect(t.percents.get("a")).toBe(62);
  });
  it("counts files not started yet when the expected total is known", () => {
    const t = new UploadTracker();
    t.update({ tempId: "a", name: "one", sent: 100, total: 100 }, 400);
    expect(t.percents.get("a")).toBe(25);
  });
  it("starts over when a file is uploaded again", () => {
    const t = new UploadTracker();
    t.update({ tempId: "a", name: "one", sent: 90, total: 100 });
    t.update({ tempId: "a", name: "one", sent: 5, total: 100 });
    expect(t.percents.get("a")).toBe(5);
  });
  it("forgets a message", () => {
    const t = new UploadTracker();
    t.update({ tempId: "a", name: "one", sent: 1, total: 2 });
    expect(t.has("a")).toBe(true);
    expect(t.delete("a")).toBe(true);
    expect(t.delete("a")).toBe(false);
    expect(t.percents.has("a")).toBe(false);
  });
});

describe("pasted images", () => {
  it("names them by local time and type", () => {
    const at = new Date(2024, 2, 5, 9, 4, 7);
    expect(pastedName("image/png", at)).toBe("pasted-20240305-090407.png");
    expect(pastedName("image/jpeg", at, 1)).toBe("pasted-20240305-090407-2.jpg");
  });
  it("only takes types the server accepts", () => {
    expect(pastedExtension("image/webp")).toBe("webp");
    expect(pastedExtension("image/tiff")).toBeNull();
    expect(pastedName("text/plain", new Date())).toBeNull();
  });
});

describe("baseName", () => {
  it("takes the last part of a Unix or Windows path", () => {
    expect(baseName("/home/me/Pictures/cat.png")).toBe("cat.png");
    expect(baseName("C:\\Users\\me\\report.pdf")).toBe("report.pdf");
    expect(baseName("dir/")).toBe("dir");
    expect(baseName("plain")).toBe("plain");
  });
});
