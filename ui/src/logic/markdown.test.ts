import { describe, expect, it } from "vitest";
import { plainText } from "./markdown";

describe("plainText", () => {
  it("drops the markers and keeps the words, code and link text", () => {
    expect(plainText("**bold** _it_ ~~gone~~ `x()` [docs](https://e.org)")).toBe("bold it gone x() docs");
    expect(plainText("```rust\nfn main() {}\n```")).toBe("fn main() {}");
    expect(plainText("> quoted\n\n- one\n- two")).toBe("quoted one two");
    expect(plainText("line\nnext https://e.org/x")).toBe("line next https://e.org/x");
    expect(plainText("<b>not html</b>")).toBe("<b>not html</b>");
  });
});
