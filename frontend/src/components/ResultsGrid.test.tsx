import { screen, within } from "@testing-library/react";
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

  it("says why each result matched, and marks the words that did in its snippet", () => {
    const text_match = {
      snippet: "… Tiệm Phở Thìn ở Hà Nội",
      highlights: [
        [7, 10],
        [11, 15],
      ] as [number, number][],
    };
    const wordsOnly = { snippet: "pho-thin.png", highlights: [[0, 12]] as [number, number][] };
    const results = [
      result(1, { matched: ["image", "text"], text_match }),
      result(2, { matched: ["text"], match: "weak", text_match: wordsOnly }),
      result(3, { matched: ["image"] }),
      result(4),
    ];
    const search = state({ results, response: searchResponse(results) });
    const { rerender } = renderUi(
      <ResultsGrid
        title="t"
        search={search}
        minScore={null}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
        explain
      />,
    );
    const [both, words, picture, neither] = screen.getAllByRole("listitem") as [
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
    ];
    expect(within(both).getByText("hình ảnh")).toHaveAttribute("title", "Hình ảnh khớp rõ với mô tả");
    expect(within(both).getByText("chữ")).toBeInTheDocument();
    expect([...both.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Phở", "Thìn"]);
    expect(both.querySelector(".snippet")).toHaveTextContent("… Tiệm Phở Thìn ở Hà Nội");
    expect(within(words).getByText("chữ")).toBeInTheDocument();
    expect(within(words).queryByText("hình ảnh")).toBeNull();
    expect(within(words).getByText("pho-thin.png", { selector: "mark" })).toBeInTheDocument();
    expect(within(picture).getByText("hình ảnh")).toBeInTheDocument();
    expect(picture.querySelector(".snippet, mark")).toBeNull();
    expect(within(neither).queryByText(/^(hình ảnh|chữ)$/)).toBeNull();
    // Its words brought it: not a weak match, though its picture scores below the threshold.
    expect(words.classList.contains("weak")).toBe(false);
    expect(within(words).queryByText("Khớp yếu")).toBeNull();

    // Where every result matches by its picture (a search by image), no badge says so.
    rerender(
      <ResultsGrid title="t" search={search} minScore={null} onOpen={vi.fn()} onShowClosest={vi.fn()} />,
    );
    expect(screen.queryByText(/^(hình ảnh|chữ)$/)).toBeNull();
    expect(screen.getAllByText("Phở")[0]!.tagName).toBe("MARK"); // the words that matched still show
  });

  it("offers “more like this” and “fewer like this” on each result only when the search can be refined", async () => {
    const results = [result(1), result(2)];
    const onRefine = vi.fn();
    const search = state({ results, response: searchResponse(results) });
    const { user, rerender } = renderUi(
      <ResultsGrid
        title="t"
        search={search}
        minScore={null}
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
        onRefine={onRefine}
      />,
    );
    const second = screen.getAllByRole("listitem")[1]!;
    await user.click(within(second).getByRole("button", { name: "Thêm ảnh như thế này" }));
    await user.click(within(second).getByRole("button", { name: "Bớt ảnh như thế này" }));
    expect(onRefine.mock.calls).toEqual([
      [results[1], "more"],
      [results[1], "less"],
    ]);
    rerender(
      <ResultsGrid title="t" search={search} minScore={null} onOpen={vi.fn()} onShowClosest={vi.fn()} />,
    );
    expect(screen.queryByRole("button", { name: "Thêm ảnh như thế này" })).toBeNull();
  });

  it("says in Vietnamese when no image's words match, with the hybrid search one click away", async () => {
    const onHybrid = vi.fn();
    const response = searchResponse([], { mode: "keyword", empty_reason: "no_text_match" });
    const { user } = renderUi(
      <ResultsGrid
        title="t"
        search={state({ response })}
        minScore="auto"
        onOpen={vi.fn()}
        onShowClosest={vi.fn()}
        onHybrid={onHybrid}
      />,
    );
    expect(screen.getByRole("heading", { name: "Không ảnh nào có chữ khớp với mô tả" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("tên tệp, thư mục, nhãn hay ghi chú");
    await user.click(screen.getByRole("button", { name: "Tìm kết hợp" }));
    expect(onHybrid).toHaveBeenCalledOnce();
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
