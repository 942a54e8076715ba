// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { applyAppearance, density, effectiveTheme, setDensity, setTextSize, setThemeChoice, themeChoice } from "./theme";

afterEach(() => {
  localStorage.clear();
  vi.unstubAllGlobals();
});

describe("appearance", () => {
  it("follows the system until a theme is chosen, and remembers the choice", () => {
    expect(effectiveTheme("system", true)).toBe("dark");
    expect(effectiveTheme("system", false)).toBe("light");
    expect(effectiveTheme("light", true)).toBe("light");
    expect(themeChoice()).toBe("system");
    setThemeChoice("dark");
    expect(localStorage.getItem("leetchat.theme")).toBe("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    setThemeChoice("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    setThemeChoice("system");
    expect(localStorage.getItem("leetchat.theme")).toBeNull();
    setTextSize("large");
    expect(document.documentElement.dataset.textSize).toBe("large");
    expect(density()).toBe("comfortable");
    setDensity("compact");
    expect(document.documentElement.dataset.density).toBe("compact");
    expect(localStorage.getItem("leetchat.density")).toBe("compact");
    setDensity("comfortable");
    expect(localStorage.getItem("leetchat.density")).toBeNull();
    localStorage.setItem("leetchat.theme", "purple");
    expect(themeChoice()).toBe("system");
    applyAppearance();
  });
});
