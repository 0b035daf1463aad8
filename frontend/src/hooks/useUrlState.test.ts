import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { NO_FILTERS, buildSearch, parseUrl, useUrlState } from "./useUrlState";

describe("URL state", () => {
  it("round-trips through the query string", () => {
    const state = { q: "hai ngôi sao màu vàng", c: "c1", like: null, img: "img2", min: 0.2, ...NO_FILTERS };
    expect(parseUrl(buildSearch(state))).toEqual(state);
    expect(buildSearch({ q: "", c: null, like: null, img: null, min: "auto", ...NO_FILTERS })).toBe("");
    expect(parseUrl("?min=abc").min).toBe("auto");
  });

  it("asks for strong matches only unless the URL says otherwise", () => {
    expect(parseUrl("?q=m%C3%A8o").min).toBe("auto");
    expect(parseUrl("?min=all").min).toBeNull();
    expect(buildSearch({ q: "", c: null, like: null, img: null, min: null, ...NO_FILTERS })).toBe("?min=all");
    expect(
      parseUrl(buildSearch({ q: "x", c: null, like: null, img: null, min: null, ...NO_FILTERS })).min,
    ).toBeNull();
  });

  it("keeps the filters and the order, and drops a malformed day", () => {
    const state = {
      q: "mèo",
      c: "c1",
      like: null,
      img: null,
      min: "auto" as const,
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
