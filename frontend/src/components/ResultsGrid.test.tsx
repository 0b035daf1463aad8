import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import type { SearchState } from "../hooks/useSearch";
import { result, searchResponse } from "../test/fakeApi";
import { renderUi } from "../test/render";
import { ResultsGrid } from "./ResultsGrid";

function state(overrides: Partial<SearchState>): SearchState {
  return {
    status: "done",
    results: [],
    response: searchResponse([]),
    error: null,
    hasMore: false,
    loadingMore: false,
    loadMore: vi.fn(),
    retry: vi.fn(),
    ...overrides,
  };
}

describe("ResultsGrid", () => {
  it("shows thumbnails with scores, lazily loaded, the time taken, and opens one", async () => {
    const results = [result(1), result(2)];
    const onOpen = vi.fn();
    const { user } = renderUi(
      <ResultsGrid
        title="“mèo”"
        search={state({ results, response: searchResponse(results, { took_ms: 41.6 }) })}
        minScore={null}
        onOpen={onOpen}
        onShowClosest={vi.fn()}
      />,
    );
    const images = screen.getAllByRole("img");
    expect(images).toHaveLength(2);
    expect(images[0]).toHaveAttribute("loading", "lazy");
    expect(images[0]).toHaveAttribute("src", results[0]!.thumbnail_url);
    expect(screen.getByText("0,890")).toBeInTheDocument(); // Vietnamese decimal comma
    expect(screen.getByTestId("summary")).toHaveTextContent("2 ảnh · 42 ms");
    await user.click(screen.getByRole("button", { name: "Xem ảnh hinh-2.png" }));
    expect(onOpen).toHaveBeenCalledWith(results[1]);
  });

  it("offers “load more” only when there may be more", async () => {
    const results = [result(1)];
    const search = state({ results, response: searchResponse(results), hasMore: true });
    const { user, rerender } = renderUi(
      <ResultsGrid title="t" search={search} minScore={null} onOpen={vi.fn()} onShowClosest={vi.fn()} />,
    );
    await user.click(screen.getByRole("button", { name: "Xem thêm" }));
    expect(search.loadMore).toHaveBeenCalledOnce();
    rerender(
      <ResultsGrid
        title="t"
        search={{ ...search, hasMore: false }}
        minScore={null}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
      />,
    );
    expect(screen.queryByRole("button", { name: "Xem thêm" })).toBeNull();
  });

  it("says why nothing was found", () => {
    const { rerender } = renderUi(
      <ResultsGrid
        title="t"
        search={state({ response: searchResponse([], { empty_reason: "below_min_score" }) })}
        minScore={0.3}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
      />,
    );
    expect(screen.getByRole("status")).toHaveTextContent("Không ảnh nào đạt độ giống tối thiểu 0,30");
    rerender(
      <ResultsGrid title="t" search={state({})} minScore={null} onOpen={vi.fn()} onShowClosest={vi.fn()} />,
    );
    expect(screen.getByRole("status")).toHaveTextContent("Chưa có ảnh nào được lập chỉ mục");
  });

  it("says in Vietnamese when no image clearly matches, with the closest images one click away", async () => {
    const onShowClosest = vi.fn();
    const response = searchResponse([], {
      empty_reason: "no_strong_match",
      best_score: 0.412,
      relevance_threshold: 0.55,
      calibrated: true,
    });
    const { user } = renderUi(
      <ResultsGrid
        title="t"
        search={state({ response })}
        minScore="auto"
        onOpen={vi.fn()}
        onShowClosest={onShowClosest}
      />,
    );
    expect(screen.getByRole("heading", { name: "Không có ảnh nào khớp rõ với mô tả" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("0,41");
    expect(screen.getByRole("status")).toHaveTextContent("0,55");
    await user.click(screen.getByRole("button", { name: "Xem các ảnh gần nhất" }));
    expect(onShowClosest).toHaveBeenCalledOnce();
  });

  it("marks weak matches, and only those", () => {
    const results = [result(1, { match: "strong" }), result(2, { match: "weak" }), result(3)];
    renderUi(
      <ResultsGrid
        title="t"
        search={state({ results, response: searchResponse(results) })}
        minScore={null}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
      />,
    );
    const cards = screen.getAllByRole("listitem");
    expect(cards.map((c) => c.classList.contains("weak"))).toEqual([false, true, false]);
    expect(screen.getAllByText("Khớp yếu")).toHaveLength(1);
  });

  it("shows a clear error with a retry", async () => {
    const search = state({
      status: "error",
      response: null,
      error: new ApiError(503, "search_unavailable", "x"),
    });
    const { user } = renderUi(
      <ResultsGrid title="t" search={search} minScore={null} onOpen={vi.fn()} onShowClosest={vi.fn()} />,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Không tìm được");
    await user.click(screen.getByRole("button", { name: "Thử lại" }));
    expect(search.retry).toHaveBeenCalledOnce();
  });

  it("flags a partial answer", () => {
    const results = [result(1)];
    renderUi(
      <ResultsGrid
        title="t"
        search={state({ results, response: searchResponse(results, { partial: true }) })}
        minScore={null}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
      />,
    );
    expect(screen.getByText(/kết quả có thể thiếu/)).toBeInTheDocument();
  });
});
