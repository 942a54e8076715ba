// Appearance: light, dark or the system's choice, the text size and compact
// mode, kept on this device (localStorage) and applied to the page as
// `data-theme` / `data-text-size` / `data-density` on <html>; every colour comes from the
// variables styles.css sets per theme.

/** The user's theme choice. */
export type ThemeChoice = "system" | "light" | "dark";
/** The user's text size. */
export type TextSize = "small" | "default" | "large";
/** How much room messages and chats take. */
export type Density = "comfortable" | "compact";

const THEME_KEY = "leetchat.theme";
const SIZE_KEY = "leetchat.textSize";
const DENSITY_KEY = "leetchat.density";
const DARK = "(prefers-color-scheme: dark)";

/** The stored theme choice ("system" when none or unknown). */
export function themeChoice(): ThemeChoice {
  const v = localStorage.getItem(THEME_KEY);
  return v === "light" || v === "dark" ? v : "system";
}

/** The stored text size ("default" when none or unknown). */
export function textSize(): TextSize {
  const v = localStorage.getItem(SIZE_KEY);
  return v === "small" || v === "large" ? v : "default";
}

/** The stored density ("comfortable" when none or unknown). */
export function density(): Density {
  return localStorage.getItem(DENSITY_KEY) === "compact" ? "compact" : "comfortable";
}

/** Keeps a new density and applies it. */
export function setDensity(d: Density): void {
  if (d === "comfortable") localStorage.removeItem(DENSITY_KEY);
  else localStorage.setItem(DENSITY_KEY, d);
  applyAppearance();
}

/** The theme shown for a choice. */
export function effectiveTheme(choice: ThemeChoice, systemDark: boolean): "light" | "dark" {
  return choice === "system" ? (systemDark ? "dark" : "light") : choice;
}

let media: MediaQueryList | null = null;
const follow = (): void => applyAppearance();

/** Applies the stored appearance, following the system's changes while the choice is "system". */
export function applyAppearance(): void {
  const root = document.documentElement;
  if (!media && typeof matchMedia === "function") {
    media = matchMedia(DARK);
    media.addEventListener?.("change", follow);
  }
  root.dataset.theme = effectiveTheme(themeChoice(), media?.matches ?? false);
  root.dataset.textSize = textSize();
  root.dataset.density = density();
}

/** Keeps a new theme choice and applies it. */
export function setThemeChoice(choice: ThemeChoice): void {
  if (choice === "system") localStorage.removeItem(THEME_KEY);
  else localStorage.setItem(THEME_KEY, choice);
  applyAppearance();
}

/** Keeps a new text size and applies it. */
export function setTextSize(size: TextSize): void {
  if (size === "default") localStorage.removeItem(SIZE_KEY);
  else localStorage.setItem(SIZE_KEY, size);
  applyAppearance();
}
