// @vitest-environment jsdom
// (jsdom: happy-dom drops the first element of what DOMPurify parses, which real webviews do not)
import { describe, expect, it } from "vitest";
import { renderHtml, renderText, safeUrl } from "./richtext";

const html = (text: string) => renderHtml(text).trim();

describe("rich text", () => {
  it("renders the Markdown subset", () => {
    expect(html("*em* **strong** ~~gone~~ `x()`")).toBe(
      "<p><em>em</em> <strong>strong</strong> <s>gone</s> <code>x()</code></p>",
    );
    expect(html("> quoted")).toBe("<blockquote>\n<p>quoted</p>\n</blockquote>");
    expect(html("- one\n- two")).toContain("<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
    expect(html("1. first")).toContain("<ol>");
    expect(html("line one\nline two")).toBe("<p>line one<br>\nline two</p>");
  });

  it("highlights code blocks in a known language and leaves others plain", () => {
    const rust = html("```rust\nfn main() {}\n```");
    expect(rust).toContain('<pre><code class="language-rust">');
    expect(rust).toContain('<span class="hljs-keyword">fn</span>');
    const plain = html("```nolang\n<b>x</b>\n```");
    expect(plain).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(plain).not.toContain("<b>");
  });

  it("makes bare URLs links and allows only http, https and mailto", () => {
    expect(html("see https://example.com/a?b=1")).toBe(
      '<p>see <a href="https://example.com/a?b=1">https://example.com/a?b=1</a></p>',
    );
    for (const bad of ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](file:///etc/passwd)", "[x](/relative)"]) {
      expect(html(bad)).not.toContain("<a");
    }
    expect(safeUrl(" https://x.org ")).toBe("https://x.org");
    expect(safeUrl("JAVASCRIPT:alert(1)")).toBeNull();
  });

  it("makes message links links, and nothing else of the leetchat scheme", () => {
    expect(html("join leetchat://join?server=https%3A%2F%2Fchat.example.com&code=Zm9v_-1 now")).toBe(
      '<p>join <a href="leetchat://join?server=https%3A%2F%2Fchat.example.com&amp;code=Zm9v_-1">leetchat://join?server=https%3A%2F%2Fchat.example.com&amp;code=Zm9v_-1</a> now</p>',
    );
    expect(html("look leetchat://message/d%3Aa%3Ab/0193-x here")).toBe(
      '<p>look <a href="leetchat://message/d%3Aa%3Ab/0193-x">leetchat://message/d%3Aa%3Ab/0193-x</a> here</p>',
    );
    expect(html("[x](leetchat://settings/delete)")).not.toContain("<a");
    expect(safeUrl("leetchat://message/r/m")).toBe("leetchat://message/r/m");
    expect(safeUrl("leetchat://join?server=https%3A%2F%2Fx&code=abc")).toBe("leetchat://join?server=https%3A%2F%2Fx&code=abc");
    expect(safeUrl("leetchat://settings")).toBeNull();
    expect(safeUrl("leetchat://other")).toBeNull();
  });

  it("never lets raw HTML or images through", () => {
    const out = html('<img src=x onerror=alert(1)> <script>alert(1)</script> ![pic](https://e.com/p.png) <a href="https://e.com" onclick="x()">a</a>');
    const div = document.createElement("div");
    div.innerHTML = out;
    expect(div.querySelectorAll("img, script").length).toBe(0);
    const attrs = [...div.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name));
    expect(attrs.every((a) => a === "href")).toBe(true);
    // Written HTML shows as the text it is; an image by URL is at most a link.
    expect(div.textContent).toContain("<script>alert(1)</script>");
    expect([...div.querySelectorAll("a")].map((a) => a.getAttribute("href"))).toEqual(["https://e.com/p.png", "https://e.com"]);
    expect(html("# not a heading")).toBe("<p># not a heading</p>");
  });

  it("marks mentions of members and the room, not inside code or links", () => {
    const frag = renderText("hi @Bob and @carol, @room: `@bob` https://x.org/@bob", {
      names: new Map([["bob", "u-bob"]]),
      room: true,
      me: "u-me",
    });
    const div = document.createElement("div");
    div.append(frag);
    const marks = [...div.querySelectorAll(".mention")].map((m) => [m.textContent, m.className]);
    expect(marks).toEqual([
      ["@Bob", "mention"],
      ["@room", "mention mention-me"],
    ]);
    expect(div.querySelector("a")?.getAttribute("rel")).toBe("noopener noreferrer");
  });
});
