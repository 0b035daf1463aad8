import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { buildSearch, parseUrl, useUrlState } from "./useUrlState";

describe("URL state", () => {
  it("round-trips through the query string", () => {
    const state = { q: "hai ngôi sao màu vàng", c: "c1", like: null, img: "img2", min: 0.2 };
    expect(parseUrl(buildSearch(state))).toEqual(state);
    expect(buildSearch({ q: "", c: null, like: null, img: null, min: "auto" })).toBe("");
    expect(parseUrl("?min=abc").min).toBe("auto");
  });

  it("asks for strong matches only unless the URL says otherwise", () => {
    expect(parseUrl("?q=m%C3%A8o").min).toBe("auto");
    expect(parseUrl("?min=all").min).toBeNull();
    expect(buildSearch({ q: "", c: null, like: null, img: null, min: null })).toBe("?min=all");
    expect(parseUrl(buildSearch({ q: "x", c: null, like: null, img: null, min: null })).min).toBeNull();
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
