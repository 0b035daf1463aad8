import { describe, expect, it } from "vitest";
import { highlightParts } from "./highlight";

const marked = (parts: ReturnType<typeof highlightParts>) =>
  parts.map((p) => (p.matched ? `[${p.text}]` : p.text)).join("");

describe("highlightParts", () => {
  it("cuts the snippet around each matched span, in order", () => {
    const parts = highlightParts({
      snippet: "Tiệm Phở Thìn ở Hà Nội",
      highlights: [
        [9, 13],
        [5, 8],
      ],
    });
    expect(marked(parts)).toBe("Tiệm [Phở] [Thìn] ở Hà Nội");
    expect(parts.map((p) => p.text).join("")).toBe("Tiệm Phở Thìn ở Hà Nội");
  });

  it("counts characters as the API does, not UTF-16 units", () => {
    // "🍜" is one character (code point) but two UTF-16 units
    expect(marked(highlightParts({ snippet: "🍜 Phở Thìn", highlights: [[2, 5]] }))).toBe("🍜 [Phở] Thìn");
  });

  it("drops spans out of range or overlapping an earlier one, and keeps a snippet with none", () => {
    const snippet = "biển Nha Trang";
    expect(
      marked(
        highlightParts({
          snippet,
          highlights: [
            [0, 4],
            [2, 8],
            [20, 30],
            [5, 5],
          ],
        }),
      ),
    ).toBe("[biển] Nha Trang");
    expect(marked(highlightParts({ snippet, highlights: [[9, 99]] }))).toBe("biển Nha [Trang]");
    expect(highlightParts({ snippet, highlights: [] })).toEqual([{ text: snippet, matched: false }]);
  });
});
