import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { fakeApi, image, json, result, searchResponse, type Recorded } from "./test/fakeApi";
import { renderUi } from "./test/render";

const bodies = (calls: Recorded[], path: string) => calls.filter((c) => c.path === path).map((c) => c.body);
const card = (name: string) => screen.getByRole("button", { name: `Xem ảnh ${name}` }).closest("li")!;
const param = (name: string) => new URLSearchParams(window.location.search).get(name);

describe("App: hybrid search, refinement and regions", () => {
  it("sends the chosen search mode, keeps it in the URL, and offers the hybrid search when no words match", async () => {
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search": (call: Recorded) => {
        const { mode } = call.body as { mode: string };
        if (mode === "keyword") return json(searchResponse([], { mode, empty_reason: "no_text_match" }));
        return json(searchResponse([result(1, { matched: ["text"] })], { mode: "hybrid" }));
      },
    });
    const { user } = renderUi(<App />);
    const mode = screen.getByRole("combobox", { name: "Tìm theo" });
    expect(mode).toHaveValue("hybrid");
    expect([...(mode as HTMLSelectElement).options].map((o) => o.text)).toEqual([
      "Kết hợp",
      "Theo hình ảnh",
      "Theo chữ",
    ]);
    await user.type(screen.getByRole("searchbox", { name: "Mô tả ảnh cần tìm" }), "phở thìn{Enter}");
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-1.png" })).toBeInTheDocument();
    expect(bodies(calls, "/search").at(-1)).toMatchObject({ query: "phở thìn", mode: "hybrid" });
    expect(within(card("hinh-1.png")).getByText("chữ")).toHaveAttribute(
      "title",
      expect.stringContaining("tên tệp"),
    );
    expect(param("mode")).toBeNull();

    await user.selectOptions(mode, "Theo chữ");
    expect(await screen.findByText("Không ảnh nào có chữ khớp với mô tả")).toBeInTheDocument();
    expect(bodies(calls, "/search").at(-1)).toMatchObject({ query: "phở thìn", mode: "keyword" });
    expect(param("mode")).toBe("keyword");

    await user.click(screen.getByRole("button", { name: "Tìm kết hợp" }));
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-1.png" })).toBeInTheDocument();
    expect(bodies(calls, "/search").at(-1)).toMatchObject({ mode: "hybrid" });
    expect(screen.getByRole("combobox", { name: "Tìm theo" })).toHaveValue("hybrid");
  });

  it("refines a text search with example images shown as chips, and returns to it when the last goes", async () => {
    window.history.replaceState(null, "", "/?q=m%C3%A8o%2C+kh%C3%B4ng+c%C3%B3+ch%C3%B3");
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search": () =>
        json(searchResponse([result(1), result(2), result(3)], { searched: "mèo", excluded: ["chó"] })),
      "POST /search/refine": () => json(searchResponse([result(4), result(5)], { mode: "dense" })),
    });
    const { user } = renderUi(<App />);
    await screen.findByRole("button", { name: "Xem ảnh hinh-1.png" });
    const chips = () => screen.queryByRole("list", { name: "Tinh chỉnh tìm kiếm" });
    expect(within(chips()!).getByText("Không có: chó")).toBeInTheDocument();
    expect(within(chips()!).queryByRole("button")).toBeNull(); // the server's exclusions are read-only

    await user.click(within(card("hinh-1.png")).getByRole("button", { name: "Thêm ảnh như thế này" }));
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-4.png" })).toBeInTheDocument();
    expect(within(chips()!).getByText("Thêm như: hinh-1.png")).toBeInTheDocument();
    expect(bodies(calls, "/search/refine").at(-1)).toEqual({
      query: "mèo, không có chó",
      positive_ids: ["img1"],
      negative_ids: [],
      collection_id: null,
      top_k: 24,
      offset: 0,
      min_score: "auto",
    });
    expect(param("more")).toBe("img1");

    await user.click(within(card("hinh-5.png")).getByRole("button", { name: "Bớt ảnh như thế này" }));
    await waitFor(() =>
      expect(bodies(calls, "/search/refine").at(-1)).toMatchObject({
        positive_ids: ["img1"],
        negative_ids: ["img5"],
      }),
    );
    expect(within(chips()!).getByText("Bớt như: hinh-5.png")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Bỏ hinh-1.png khỏi tinh chỉnh" }));
    await waitFor(() =>
      expect(bodies(calls, "/search/refine").at(-1)).toMatchObject({
        positive_ids: [],
        negative_ids: ["img5"],
      }),
    );
    expect(screen.queryByText("Thêm như: hinh-1.png")).toBeNull();
    const searches = bodies(calls, "/search").length;
    await user.click(screen.getByRole("button", { name: "Bỏ hinh-5.png khỏi tinh chỉnh" }));
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-1.png" })).toBeInTheDocument();
    expect(bodies(calls, "/search")).toHaveLength(searches + 1);
    expect(screen.queryByText(/^(Thêm|Bớt) như:/)).toBeNull();
    expect(window.location.search).toBe("?q=m%C3%A8o%2C+kh%C3%B4ng+c%C3%B3+ch%C3%B3");
  });

  it("names the example images of a refinement read from the URL, and refines a similar-image search", async () => {
    window.history.replaceState(null, "", "/?like=img2&less=img7");
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "GET /images/img2": () => json(image(2)),
      "GET /images/img7": () => json(image(7)),
      "POST /search/refine": () => json(searchResponse([result(5)])),
    });
    const { user } = renderUi(<App />);
    expect(await screen.findByText("Bớt như: hinh-7.png")).toBeInTheDocument();
    expect(bodies(calls, "/search/refine").at(-1)).toMatchObject({
      positive_ids: ["img2"],
      negative_ids: ["img7"],
    });
    expect(bodies(calls, "/search/refine").at(-1)).not.toHaveProperty("query");
    expect(screen.getByRole("heading", { name: "Ảnh tương tự “hinh-2.png”" })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Bỏ hinh-7.png khỏi tinh chỉnh" }));
    await waitFor(() => expect(calls.some((c) => c.path === "/search/image")).toBe(true));
    expect(bodies(calls, "/search/image").at(-1)).toMatchObject({ image_id: "img2" });
  });

  it("searches by a region dragged over the picture, in fractions of the picture as displayed", async () => {
    window.history.replaceState(null, "", "/?q=sao&img=img2");
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search": () => json(searchResponse([result(2)])),
      "GET /images/img2": () => json(image(2)), // 64 × 48
      "POST /search/image": () => json(searchResponse([result(2), result(6)])),
    });
    const { user } = renderUi(<App />);
    const dialog = await screen.findByRole("dialog", { name: "hinh-2.png" });
    const picture = within(dialog).getByRole("img", { name: "hinh-2.png" });
    // Shown 400 × 300 at (100, 50): the same shape as the image, so it fills its element.
    picture.getBoundingClientRect = () => new DOMRect(100, 50, 400, 300);
    const frame = picture.parentElement!;
    frame.getBoundingClientRect = () => new DOMRect(100, 50, 400, 300);

    fireEvent.pointerDown(frame, { clientX: 200, clientY: 110, pointerId: 1 });
    expect(within(dialog).queryByTestId("region-box")).toBeNull(); // not in region mode yet
    await user.click(within(dialog).getByRole("button", { name: "Tìm theo vùng" }));
    expect(within(dialog).getByRole("button", { name: "Tìm theo vùng" })).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    const go = within(dialog).getByRole("button", { name: "Tìm ảnh giống vùng này" });
    expect(go).toBeDisabled();

    fireEvent.pointerDown(frame, { clientX: 300, clientY: 200, pointerId: 1 });
    fireEvent.pointerMove(frame, { clientX: 250, clientY: 150, pointerId: 1 });
    fireEvent.pointerUp(frame, { clientX: 200, clientY: 110, pointerId: 1 }); // dragged up and left
    const box = within(dialog).getByTestId("region-box");
    expect(box.style.left).toBe("100px");
    expect(box.style.width).toBe("100px");
    expect(box.style.height).toBe("90px");
    expect(go).toBeEnabled();

    await user.click(go);
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-6.png" })).toBeInTheDocument();
    expect(bodies(calls, "/search/image").at(-1)).toMatchObject({
      image_id: "img2",
      region: { x: 0.25, y: 0.2, width: 0.25, height: 0.3 },
    });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(param("region")).toBe("0.25,0.2,0.25,0.3");
    expect(param("like")).toBe("img2");
    expect(param("q")).toBeNull();
    expect(
      await screen.findByRole("heading", { name: "Ảnh giống vùng đã chọn trong “hinh-2.png”" }),
    ).toBeInTheDocument();
    // A region search is not refined: the API takes whole images as examples.
    expect(screen.queryByRole("button", { name: "Thêm ảnh như thế này" })).toBeNull();
  });
});
