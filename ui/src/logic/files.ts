// Rules for attachments: sizes as people read them ("1.2 MB"), which types
// show inline as pictures, how big a thumbnail's box is before the picture
// arrives, upload progress per queued message, and names for pasted images.

/** The largest side of an inline thumbnail, in CSS pixels. */
export const THUMB_MAX = 320;
/** The smallest side of a thumbnail box (a 1×2000 strip stays clickable). */
export const THUMB_MIN = 48;
/** The box used when an image's size is unknown. */
export const THUMB_FALLBACK = { width: 240, height: 180 } as const;
/** The largest pasted image the shell accepts (`send_file_bytes`). */
export const MAX_PASTE_BYTES = 25 * 1024 * 1024;

const UNITS = ["KB", "MB", "GB", "TB"] as const;

/**
 * A byte count as people read it: "512 B", "1.2 KB", "15 MB", "1 GB"
 * (1024-based, one decimal below 10 of a unit, none from there on).
 */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return "0 B";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  for (;;) {
    const digits = value < 10 ? 1 : 0;
    const factor = digits ? 10 : 1;
    const rounded = Math.round(value * factor) / factor;
    // 1023.96 KB rounds to 1024 KB: that is 1 MB.
    if (rounded >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
      continue;
    }
    return `${digits ? rounded.toFixed(1).replace(/\.0$/, "") : String(rounded)} ${UNITS[unit]}`;
  }
}

/** Picture types a webview shows safely inline (never SVG: it can carry script). */
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);

/** Whether an attachment of this type is shown as a picture (thumbnail and viewer). */
export function isImageMime(mime: string | null | undefined): boolean {
  if (!mime) return false;
  const base = mime.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return INLINE_IMAGES.has(base);
}

/** A thumbnail's box in CSS pixels. */
export interface Box {
  width: number;
  height: number;
}

/**
 * The box to reserve for an image of `width`×`height` so the list does not
 * jump when it loads: scaled down (never up) to fit `max`×`max`, keeping the
 * aspect ratio, with each side at least THUMB_MIN (the picture is cropped
 * to fill, so extreme strips stay visible). Unknown sizes get a fixed box.
 */
export function thumbBox(width: number | null | undefined, height: number | null | undefined, max = THUMB_MAX): Box {
  if (!width || !height || !Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    return { width: Math.min(THUMB_FALLBACK.width, max), height: Math.min(THUMB_FALLBACK.height, max) };
  }
  const scale = Math.min(1, max / width, max / height);
  const min = Math.min(THUMB_MIN, max);
  return {
    width: Math.max(min, Math.min(max, Math.round(width * scale))),
    height: Math.max(min, Math.min(max, Math.round(height * scale))),
  };
}

/** `sent` of `total` as a whole percentage, 0–100 (100 only when complete). */
export function progressPercent(sent: number, total: number): number {
  if (!(total > 0) || !(sent > 0)) return 0;
  if (sent >= total) return 100;
  return Math.min(99, Math.floor((sent / total) * 100));
}

/** Bytes sent of one file. */
interface FileProgress {
  sent: number;
  total: number;
}

/** One `upload_progress` event's fields. */
export interface ProgressEvent {
  tempId: string;
  name: string;
  sent: number;
  total: number;
}

/**
 * Upload progress of queued messages, by tempId. A message may carry several
 * files, each reported by name; its percentage is bytes sent over bytes to
 * send, where the bytes to send are the message's attachment sizes when
 * known (files not started yet count as 0 sent) and else the files reported.
 */
export class UploadTracker {
  private readonly files = new Map<string, Map<string, FileProgress>>();
  private readonly expected = new Map<string, number>();
  private readonly pct = new Map<string, number>();

  /** Percentages by tempId (for the message list). */
  get percents(): ReadonlyMap<string, number> {
    return this.pct;
  }

  /** Whether a message's progress is known. */
  has(tempId: string): boolean {
    return this.files.has(tempId);
  }

  /**
   * Applies an event; `expectedTotal` (the message's attachment sizes) is
   * used when the message is seen for the first time. Returns whether the
   * message's percentage changed.
   */
  update(ev: ProgressEvent, expectedTotal?: number): boolean {
    let files = this.files.get(ev.tempId);
    if (!files) {
      files = new Map();
      this.files.set(ev.tempId, files);
      if (expectedTotal !== undefined && expectedTotal > 0) this.expected.set(ev.tempId, expectedTotal);
    }
    files.set(ev.name, { sent: Math.max(0, ev.sent), total: Math.max(0, ev.total) });
    let sent = 0;
    let total = 0;
    for (const f of files.values()) {
      sent += Math.min(f.sent, f.total);
      total += f.total;
    }
    const next = progressPercent(sent, Math.max(total, this.expected.get(ev.tempId) ?? 0));
    if (this.pct.get(ev.tempId) === next) return false;
    this.pct.set(ev.tempId, next);
    return true;
  }

  /** Forgets a message (acked, failed or withdrawn); returns whether it was known. */
  delete(tempId: string): boolean {
    this.expected.delete(tempId);
    this.pct.delete(tempId);
    return this.files.delete(tempId);
  }

  /** Forgets everything (sign-out). */
  clear(): void {
    this.files.clear();
    this.expected.clear();
    this.pct.clear();
  }
}

/** File name extensions for the image types that can be pasted and sent. */
const PASTE_EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
};

/** The extension a pasted image of this type is sent with, or null if it cannot be sent. */
export function pastedExtension(mime: string): string | null {
  return PASTE_EXT[mime.split(";", 1)[0]?.trim().toLowerCase() ?? ""] ?? null;
}

const pad = (n: number): string => String(n).padStart(2, "0");

/**
 * The name of a pasted image: "pasted-20240305-101502.png" (local time), with
 * `-2`, `-3`… for the further images of one paste. Null for types that cannot be sent.
 */
export function pastedName(mime: string, at: Date, index = 0): string | null {
  const ext = pastedExtension(mime);
  if (!ext) return null;
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  return `pasted-${stamp}${index > 0 ? `-${index + 1}` : ""}.${ext}`;
}

/** The last part of a path, for messages about a file ("report.pdf"). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]) return parts[i] as string;
  return path;
}
