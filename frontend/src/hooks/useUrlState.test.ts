import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MAX_EXAMPLES, buildSearch, parseUrl, useUrlState } from "./useUrlState";

const BLANK = parseUrl(""); // no search, every default

describe("URL state", () => {
  it("round-trips through the query string", () => {
    const state = { ...BLANK, q: "hai ngôi sao màu vàng", c: "c1", img: "img2", min: 0.2 };
    expect(parseUrl(buildSearch(state))).toEqual(state);
    expect(buildSearch(BLANK)).toBe("");
    expect(parseUrl("?min=abc").min).toBe("auto");
  });

  it("asks for strong matches only unless the URL says otherwise", () => {
    expect(parseUrl("?q=m%C3%A8o").min).toBe("auto");
    expect(parseUrl("?min=all").min).toBeNull();
    expect(buildSearch({ ...BLANK, min: null })).toBe("?min=all");
    expect(parseUrl(buildSearch({ ...BLANK, q: "x", min: null })).min).toBeNull();
  });

  it("keeps the search mode, hybrid unless the URL says otherwise", () => {
    expect(BLANK.mode).toBe("hybrid");
    expect(buildSearch({ ...BLANK, q: "phở", mode: "keyword" })).toBe("?q=ph%E1%BB%9F&mode=keyword");
    expect(parseUrl("?q=x&mode=dense").mode).toBe("dense");
    expect(parseUrl("?q=x&mode=fuzzy").mode).toBe("hybrid");
  });

  it("keeps a region of the similar image, and drops one that is not a box inside the picture", () => {
    const state = { ...BLANK, like: "img3", region: { x: 0.25, y: 0.1, width: 0.5, height: 0.3333 } };
    const search = buildSearch(state);
    expect(new URLSearchParams(search).get("region")).toBe("0.25,0.1,0.5,0.3333");
    expect(parseUrl(search)).toEqual(state);
    expect(parseUrl("?like=i&region=0.5,0.5,0.6,0.2").region).toBeNull(); // past the right edge
    expect(parseUrl("?like=i&region=0.1,0.1,0,0.2").region).toBeNull();
    expect(parseUrl("?like=i&region=0.1,0.1,0.2").region).toBeNull();
    expect(parseUrl("?like=i&region=a,b,c,d").region).toBeNull();
  });

  it("keeps the example images of a refinement, each once, at most as many as the API takes", () => {
    const state = { ...BLANK, q: "mèo", more: ["img1", "img2"], less: ["img9"] };
    const search = buildSearch(state);
    expect(search).toContain("more=img1%2Cimg2&less=img9");
    expect(parseUrl(search)).toEqual(state);
    expect(parseUrl("?more=a,a,,b").more).toEqual(["a", "b"]);
    const many = Array.from({ length: MAX_EXAMPLES + 5 }, (_, i) => `i${i}`);
    expect(parseUrl(`?less=${many.join(",")}`).less).toHaveLength(MAX_EXAMPLES);
  });

  it("keeps the filters and the order, and drops a malformed day", () => {
    const state = {
      ...BLANK,
      q: "mèo",
      c: "c1",
      from: "2023-07-01",
      to: "2023-07-31",
      camera: "EOS R6",
      album: "a1",
      tag: "tết 2024",
      sort: "taken_at" as const,
    };
    const search = buildSearch(state);
    expect(search).toContain("from=2023-07-01&to=2023-07-31");
    expect(search).toContain("sort=taken_at");
    expect(parseUrl(search)).toEqual(state);
    expect(parseUrl("?from=07%2F01%2F2023&sort=weird")).toMatchObject({ from: null, sort: "relevance" });
  });

  it("pushes history entries, and Back restores the previous search", async () => {
    const { result } = renderHook(() => useUrlState());
    act(() => result.current[1]({ q: "mèo" }));
    act(() => result.current[1]({ q: "chó", c: "c9" }));
    expect(window.location.search).toBe("?q=ch%C3%B3&c=c9");
    expect(result.current[0]).toMatchObject({ q: "chó", c: "c9" });
    await act(async () => {
      window.history.back();
      await new Promise((resolve) => window.addEventListener("popstate", resolve, { once: true }));
    });
    expect(result.current[0]).toMatchObject({ q: "mèo", c: null });
  });

  it("replaces the entry when asked", () => {
    const { result } = renderHook(() => useUrlState());
    const before = window.history.length;
    act(() => result.current[1]({ min: 0.3 }, { replace: true }));
    expect(window.history.length).toBe(before);
    expect(result.current[0].min).toBe(0.3);
  });
});
