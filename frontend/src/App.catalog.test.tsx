import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { Image } from "./api/types";
import {
  apiError,
  collection,
  fakeApi,
  image,
  json,
  result,
  searchResponse,
  type Recorded,
} from "./test/fakeApi";
import { renderUi } from "./test/render";

const album = (id: string, name: string, image_count = 0) => ({
  id,
  collection_id: "c1",
  name,
  created_at: "2024-01-01T00:00:00Z",
  image_count,
});

const folderLists = {
  "GET /collections": () => json({ items: [collection()] }),
  "GET /collections/c1/albums": () => json({ items: [album("a1", "Tết ở Huế", 2)] }),
  "GET /collections/c1/tags": () => json({ items: [{ tag: "biển", count: 3 }] }),
  "GET /collections/c1/cameras": () => json({ items: [{ make: "Canon", model: "EOS R6", count: 5 }] }),
};

const searches = (calls: Recorded[]) => calls.filter((c) => c.path === "/search").map((c) => c.body);

describe("App: the catalog", () => {
  it("narrows a search by dates, album and tag, orders it by date, keeps it all in the URL, clears it in one click", async () => {
    window.history.replaceState(null, "", "/?q=m%C3%A8o&c=c1");
    const { calls } = fakeApi({ ...folderLists, "POST /search": () => json(searchResponse([result(1)])) });
    const { user } = renderUi(<App />);
    await screen.findByRole("button", { name: "Xem ảnh hinh-1.png" });
    expect(searches(calls).at(-1)).not.toHaveProperty("filters");

    await user.type(screen.getByLabelText("Từ ngày"), "2023-07-01");
    await user.type(screen.getByLabelText("Đến ngày"), "2023-07-31");
    await user.selectOptions(await screen.findByRole("combobox", { name: "Album" }), "Tết ở Huế (2)");
    await user.selectOptions(screen.getByRole("combobox", { name: "Nhãn" }), "biển");
    await user.selectOptions(screen.getByRole("combobox", { name: "Máy ảnh" }), "EOS R6");
    await user.selectOptions(screen.getByRole("combobox", { name: "Sắp xếp" }), "Mới nhất theo ngày chụp");
    await waitFor(() =>
      expect(searches(calls).at(-1)).toEqual({
        query: "mèo",
        mode: "hybrid",
        collection_id: "c1",
        top_k: 24,
        offset: 0,
        min_score: "auto",
        filters: {
          taken_after: "2023-07-01T00:00:00",
          taken_before: "2023-08-01T00:00:00",
          album_id: "a1",
          tag: "biển",
          camera: "EOS R6",
        },
        order: "taken_at",
      }),
    );
    const params = new URLSearchParams(window.location.search);
    expect(Object.fromEntries(params)).toMatchObject({
      from: "2023-07-01",
      to: "2023-07-31",
      album: "a1",
      tag: "biển",
      camera: "EOS R6",
      sort: "taken_at",
    });

    await user.click(screen.getByRole("button", { name: "Xoá bộ lọc" }));
    await waitFor(() => expect(searches(calls).at(-1)).not.toHaveProperty("filters"));
    expect(searches(calls).at(-1)).not.toHaveProperty("order");
    expect(window.location.search).toBe("?q=m%C3%A8o&c=c1");
    expect(screen.queryByRole("button", { name: "Xoá bộ lọc" })).toBeNull();
  });

  it("says when the filters match nothing, and a new folder drops the old folder's filters", async () => {
    window.history.replaceState(null, "", "/?q=m%C3%A8o&c=c1&album=a1&from=2023-07-01");
    fakeApi({
      ...folderLists,
      "POST /search": () => json(searchResponse([], { empty_reason: "filter_matched_nothing" })),
    });
    const { user } = renderUi(<App />);
    expect(await screen.findByText(/Không ảnh nào khớp với bộ lọc đã chọn/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Tất cả thư mục" }));
    expect(new URLSearchParams(window.location.search).get("album")).toBeNull();
    expect(new URLSearchParams(window.location.search).get("from")).toBe("2023-07-01");
  });

  it("browses a folder by date under month headers, undated last, and pages by cursor", async () => {
    window.history.replaceState(null, "", "/?c=c1");
    const dated = (i: number, taken_at: string | null): Image => image(i, { taken_at });
    const { calls } = fakeApi({
      ...folderLists,
      "GET /collections/c1/images": (call: Recorded) =>
        call.query.get("cursor") === "p2"
          ? json({ items: [dated(3, "2023-06-30T23:00:00"), dated(4, null)], next_cursor: null })
          : json({
              items: [dated(1, "2023-07-20T03:00:00Z"), dated(2, "2023-07-02T09:00:00")],
              next_cursor: "p2",
            }),
    });
    const { user } = renderUi(<App />);
    const view = await screen.findByRole("region", { name: "Duyệt theo ngày" });
    expect(
      within(view)
        .getAllByRole("heading", { level: 3 })
        .map((h) => h.textContent),
    ).toEqual(["Tháng 7 năm 2023"]);
    expect(calls.find((c) => c.path === "/collections/c1/images")?.query.get("order")).toBe("taken_at");

    await user.click(within(view).getByRole("button", { name: "Xem thêm" }));
    await waitFor(() =>
      expect(
        within(view)
          .getAllByRole("heading", { level: 3 })
          .map((h) => h.textContent),
      ).toEqual(["Tháng 7 năm 2023", "Tháng 6 năm 2023", "Không rõ ngày chụp"]),
    );
    const undated = within(view).getByRole("region", { name: "Không rõ ngày chụp" });
    expect(within(undated).getByRole("button", { name: "Xem ảnh hinh-4.png" })).toBeInTheDocument();
    expect(within(view).queryByRole("button", { name: "Xem thêm" })).toBeNull();
    expect(
      calls
        .filter((c) => c.path === "/collections/c1/images")
        .at(-1)
        ?.query.get("cursor"),
    ).toBe("p2");

    await user.click(within(view).getByRole("button", { name: "Xem ảnh hinh-3.png" }));
    expect(new URLSearchParams(window.location.search).get("img")).toBe("img3");
  });

  it("shows the photo's metadata and edits its albums, tags and note from the detail view", async () => {
    window.history.replaceState(null, "", "/?q=sao&c=c1&img=img2");
    let current: Image = image(2, {
      taken_at: "2023-07-14T03:05:00", // UTC, as the offset says
      taken_tz_offset_min: 420,
      camera_make: "Canon",
      camera_model: "EOS R6",
      size: 2_621_440,
      location: { latitude: 16.4637, longitude: 107.5909 },
      folder: "2023/hue",
      albums: [],
      tags: ["biển"],
    });
    const { calls } = fakeApi({
      ...folderLists,
      "POST /search": () => json(searchResponse([result(2)])),
      "GET /images/img2": () => json(current),
      "POST /collections/c1/albums": (call: Recorded) =>
        json(album("a9", (call.body as { name: string }).name), 201),
      "POST /collections/c1/albums/a9/images": () => {
        current = { ...current, albums: [{ id: "a9", name: "Hè 2023" }] };
        return json({ album: album("a9", "Hè 2023", 1), not_in_collection: [] });
      },
      "DELETE /collections/c1/albums/a9/images/img2": () => apiError(404, "image_not_in_album"),
      "PATCH /images/img2": (call: Recorded) => {
        const body = call.body as { add_tags?: string[]; remove_tags?: string[]; note?: string | null };
        const tags = (current.tags ?? []).filter((t) => !body.remove_tags?.includes(t));
        current = {
          ...current,
          tags: [...tags, ...(body.add_tags ?? []).map((t) => t.toLowerCase())],
          ...("note" in body ? { note: body.note } : {}),
        };
        return json(current);
      },
    });
    const { user } = renderUi(<App />);
    const dialog = await screen.findByRole("dialog", { name: "hinh-2.png" });
    expect(within(dialog).getByText("10:05, 14 tháng 7, 2023 (UTC+07:00)")).toBeInTheDocument();
    expect(within(dialog).getByText("Canon EOS R6")).toBeInTheDocument();
    expect(within(dialog).getByText("2,5 MB")).toBeInTheDocument();
    expect(within(dialog).getByText("2023/hue")).toBeInTheDocument();
    expect(within(dialog).getByRole("link", { name: "16.46370, 107.59090" })).toHaveAttribute(
      "href",
      expect.stringContaining("openstreetmap.org/?mlat=16.4637&mlon=107.5909"),
    );

    // A new album, made and filled from here.
    await user.type(within(dialog).getByRole("textbox", { name: "Tên album mới" }), "Hè 2023{Enter}");
    expect(
      await within(dialog).findByRole("button", { name: "Bỏ ảnh khỏi album Hè 2023" }),
    ).toBeInTheDocument();
    expect(calls.find((c) => c.path === "/collections/c1/albums/a9/images")?.body).toEqual({
      image_ids: ["img2"],
    });

    // Tags: one added (the server lower-cases it), one removed.
    await user.type(within(dialog).getByRole("textbox", { name: "Thêm nhãn" }), "Tết{Enter}");
    expect(await within(dialog).findByRole("button", { name: "Bỏ nhãn tết" })).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Bỏ nhãn biển" }));
    await waitFor(() => expect(within(dialog).queryByRole("button", { name: "Bỏ nhãn biển" })).toBeNull());
    expect(calls.filter((c) => c.method === "PATCH").map((c) => c.body)).toEqual([
      { add_tags: ["Tết"] },
      { remove_tags: ["biển"] },
    ]);

    // The note.
    await user.type(within(dialog).getByRole("textbox", { name: "Ghi chú" }), "Chiều ở phá Tam Giang");
    await user.click(within(dialog).getByRole("button", { name: "Lưu ghi chú" }));
    expect(await within(dialog).findByText("Đã lưu ghi chú.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "PATCH").at(-1)?.body).toEqual({ note: "Chiều ở phá Tam Giang" });

    // A removal the server refuses comes back, with the reason in Vietnamese.
    await user.click(within(dialog).getByRole("button", { name: "Bỏ ảnh khỏi album Hè 2023" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Ảnh này đã không còn trong album.");
    expect(within(dialog).getByRole("button", { name: "Bỏ ảnh khỏi album Hè 2023" })).toBeInTheDocument();
  });

  it("shows a read-only key the albums and tags without ways to change them", async () => {
    window.history.replaceState(null, "", "/?img=img2");
    fakeApi({
      "GET /me": () =>
        json({ role: "read", key_id: "k", auth_required: true, permissions: ["read", "search"] }),
      "GET /collections": () => json({ items: [collection({ writable: false })] }),
      "GET /collections/c1/albums": () => json({ items: [] }),
      "GET /images/img2": () =>
        json(image(2, { albums: [{ id: "a1", name: "Tết" }], tags: ["biển"], note: "Huế" })),
    });
    renderUi(<App />);
    const dialog = await screen.findByRole("dialog", { name: "hinh-2.png" });
    expect(within(dialog).getByText("Tết")).toBeInTheDocument();
    expect(within(dialog).getByText("Huế")).toBeInTheDocument();
    await waitFor(() => expect(within(dialog).queryByRole("textbox", { name: "Thêm nhãn" })).toBeNull());
    expect(within(dialog).queryByRole("button", { name: /^Bỏ/ })).toBeNull();
    expect(within(dialog).getByText(/chỉ được xem/)).toBeInTheDocument();
  });
});
