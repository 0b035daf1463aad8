import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { PAGE_SIZE } from "./hooks/useSearch";
import {
  FakeXhr,
  apiError,
  collection,
  fakeApi,
  image,
  job,
  json,
  result,
  searchResponse,
  type Recorded,
} from "./test/fakeApi";
import { renderUi } from "./test/render";

const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => result(from + i));

describe("App", () => {
  it("searches on Enter, keeps the query in the URL, and pages with “load more”", async () => {
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [collection()] }),
      "POST /search": (call: Recorded) => {
        const { offset } = call.body as { offset: number };
        return json(searchResponse(offset === 0 ? page(0, PAGE_SIZE) : page(PAGE_SIZE, 3)));
      },
    });
    const { user } = renderUi(<App />);
    expect(screen.getByText(/Gõ một mô tả/)).toBeInTheDocument();
    await user.type(
      screen.getByRole("searchbox", { name: "Mô tả ảnh cần tìm" }),
      "hai ngôi sao màu vàng{Enter}",
    );
    expect(await screen.findAllByRole("button", { name: /Xem ảnh/ })).toHaveLength(PAGE_SIZE);
    expect(new URLSearchParams(window.location.search).get("q")).toBe("hai ngôi sao màu vàng");
    expect(calls.find((c) => c.path === "/search")?.body).toMatchObject({
      query: "hai ngôi sao màu vàng",
      offset: 0,
      top_k: PAGE_SIZE,
    });

    await user.click(screen.getByRole("button", { name: "Xem thêm" }));
    await waitFor(() =>
      expect(screen.getAllByRole("button", { name: /Xem ảnh/ })).toHaveLength(PAGE_SIZE + 3),
    );
    expect(calls.filter((c) => c.path === "/search").at(-1)?.body).toMatchObject({ offset: PAGE_SIZE });
    expect(screen.queryByRole("button", { name: "Xem thêm" })).toBeNull();
  });

  it("shows strong matches by default, and the closest images on request when there are none", async () => {
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [collection()] }),
      "POST /search": (call: Recorded) => {
        const { min_score } = call.body as { min_score: unknown };
        if (min_score === "auto") {
          const calibrated = { relevance_threshold: 0.55, calibrated: true, best_score: 0.41 };
          return json(searchResponse([], { ...calibrated, empty_reason: "no_strong_match" }));
        }
        return json(searchResponse([result(1, { match: "weak" }), result(2, { match: "weak" })]));
      },
    });
    const { user } = renderUi(<App />);
    await user.type(
      screen.getByRole("searchbox", { name: "Mô tả ảnh cần tìm" }),
      "một con mèo đang ngủ trên ghế sofa{Enter}",
    );
    expect(await screen.findByText("Không có ảnh nào khớp rõ với mô tả")).toBeInTheDocument();
    expect(calls.find((c) => c.path === "/search")?.body).toMatchObject({ min_score: "auto" });
    await user.click(screen.getByRole("button", { name: "Xem các ảnh gần nhất" }));
    expect(await screen.findAllByText("Khớp yếu")).toHaveLength(2);
    expect(calls.filter((c) => c.path === "/search").at(-1)?.body).toMatchObject({ min_score: null });
    expect(new URLSearchParams(window.location.search).get("min")).toBe("all");
  });

  it("scopes the search to the chosen folder", async () => {
    window.history.replaceState(null, "", "/?q=m%C3%A8o");
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [collection()] }),
      "POST /search": () => json(searchResponse([result(1)])),
    });
    const { user } = renderUi(<App />);
    await user.click(await screen.findByRole("button", { name: /Hình khối\s*3 ảnh/ }));
    await waitFor(() =>
      expect(calls.filter((c) => c.path === "/search").at(-1)?.body).toMatchObject({
        query: "mèo",
        collection_id: "c1",
      }),
    );
    expect(screen.getByText("Tìm trong “Hình khối”")).toBeInTheDocument();
  });

  it("opens an image, then finds similar images; Back returns to the detail", async () => {
    window.history.replaceState(null, "", "/?q=sao");
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search": () => json(searchResponse([result(1), result(2)])),
      "GET /images/img2": () => json(image(2)),
      "POST /search/image": () => json(searchResponse([result(5)])),
    });
    const { user } = renderUi(<App />);
    await user.click(await screen.findByRole("button", { name: "Xem ảnh hinh-2.png" }));
    const dialog = await screen.findByRole("dialog", { name: "hinh-2.png" });
    expect(within(dialog).getByText("64 × 48 px")).toBeInTheDocument();
    expect(within(dialog).getByText("0,880")).toBeInTheDocument();
    expect(within(dialog).getByRole("link", { name: "Tải xuống" })).toHaveAttribute("download", "hinh-2.png");
    expect(new URLSearchParams(window.location.search).get("img")).toBe("img2");

    await user.click(within(dialog).getByRole("button", { name: "Ảnh tương tự" }));
    expect(await screen.findByRole("button", { name: "Xem ảnh hinh-5.png" })).toBeInTheDocument();
    expect(calls.find((c) => c.path === "/search/image")?.body).toMatchObject({ image_id: "img2" });
    expect(screen.getByRole("heading", { name: "Ảnh tương tự “hinh-2.png”" })).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).toBeNull();

    await act(async () => {
      window.history.back();
      await new Promise((resolve) => window.addEventListener("popstate", resolve, { once: true }));
    });
    expect(await screen.findByRole("dialog", { name: "hinh-2.png" })).toBeInTheDocument();
  });

  it("closes the detail with Escape", async () => {
    window.history.replaceState(null, "", "/?q=sao&img=img2");
    fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search": () => json(searchResponse([result(2)])),
      "GET /images/img2": () => json(image(2)),
    });
    const { user } = renderUi(<App />);
    await screen.findByRole("dialog", { name: "hinh-2.png" });
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(window.location.search).toBe("?q=sao");
  });

  it("searches by a chosen image file", async () => {
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search/image": () => json(searchResponse([result(3)])),
    });
    const { user } = renderUi(<App />);
    const file = new File([new Uint8Array([137, 80, 78, 71])], "mau.png", { type: "image/png" });
    const input = screen.getAllByLabelText("Tìm bằng ảnh").find((el) => el instanceof HTMLInputElement)!;
    await user.upload(input, file);
    expect(await screen.findByRole("heading", { name: "Ảnh giống “mau.png”" })).toBeInTheDocument();
    expect((calls.find((c) => c.path === "/search/image")?.body as FormData).get("file")).toBeInstanceOf(
      File,
    );
  });

  it("asks for an API key on 401, stores it, and retries with it", async () => {
    let keyed = false;
    const { calls } = fakeApi({
      "GET /collections": (call: Recorded) => {
        keyed = call.headers.get("X-API-Key") === "bi-mat";
        return keyed ? json({ items: [collection()] }) : apiError(401, "missing_api_key");
      },
    });
    const { user } = renderUi(<App />);
    const dialog = await screen.findByRole("dialog", { name: "Cần khoá API" });
    await user.type(within(dialog).getByLabelText("Khoá API"), "bi-mat{Enter}");
    expect(await screen.findByRole("button", { name: /Hình khối\s*3 ảnh/ })).toBeInTheDocument();
    expect(localStorage.getItem("timanh.apiKey")).toBe("bi-mat");
    expect(calls.at(-1)?.headers.get("X-API-Key")).toBe("bi-mat");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("switches to English and remembers it", async () => {
    fakeApi({ "GET /collections": () => json({ items: [] }) });
    const { user } = renderUi(<App />);
    await user.click(screen.getByRole("button", { name: "English" }));
    expect(screen.getByRole("searchbox", { name: "Describe the image to find" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Image folders" })).toBeInTheDocument();
    expect(localStorage.getItem("timanh.lang")).toBe("en");
    expect(document.documentElement.lang).toBe("en");
    await user.click(screen.getByRole("button", { name: "Tiếng Việt" }));
    expect(screen.getByRole("heading", { name: "Thư mục ảnh" })).toBeInTheDocument();
  });

  it("uploads with a progress bar, follows indexing, and lists rejected files in Vietnamese", async () => {
    FakeXhr.install();
    window.history.replaceState(null, "", "/?c=c1");
    let polls = 0;
    fakeApi({
      "GET /collections": () => json({ items: [collection()] }),
      "GET /jobs/j1": () => {
        polls += 1;
        return json(polls < 2 ? job({ done: 1 }) : job({ status: "done", done: 2 }));
      },
    });
    const { user } = renderUi(<App />);
    const input = await screen.findByLabelText("Chọn ảnh hoặc .zip");
    const files = ["a.png", "b.png", "notes.txt"].map((n) => new File(["x"], n));
    await user.upload(input, files);

    const xhr = FakeXhr.last[0]!;
    expect(xhr.body?.getAll("files")).toHaveLength(3);
    act(() => xhr.progress(2, 4));
    expect(screen.getByRole("progressbar", { name: "Tiến độ tải lên" })).toHaveAttribute(
      "aria-valuenow",
      "50",
    );
    act(() =>
      xhr.respond(202, {
        job_id: "j1",
        accepted: [
          { image_id: "i1", filename: "a.png" },
          { image_id: "i2", filename: "b.png" },
        ],
        rejected: [{ filename: "notes.txt", error: { code: "unsupported_format", message: "not an image" } }],
        duplicates: [],
      }),
    );
    const done = await screen.findByText("Xong: 2 ảnh đã sẵn sàng để tìm.", {}, { timeout: 5000 });
    expect(done).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Tiến độ lập chỉ mục" })).toHaveAttribute(
      "aria-valuenow",
      "100",
    );
    expect(screen.getByText("1 tệp không được nhận:")).toBeInTheDocument();
    expect(screen.getByText("notes.txt").nextSibling).toHaveTextContent(
      "Không phải ảnh, hoặc định dạng không được hỗ trợ",
    );
  });

  it("says so when an indexing job fails, with each image's reason", async () => {
    FakeXhr.install();
    window.history.replaceState(null, "", "/?c=c1");
    fakeApi({
      "GET /collections": () => json({ items: [collection()] }),
      "GET /jobs/j9": () =>
        json(
          job({
            job_id: "j9",
            status: "failed",
            total: 1,
            failed: 1,
            errors: [{ item: "i1", code: "corrupt_image", message: "bad" }],
          }),
        ),
    });
    const { user } = renderUi(<App />);
    await user.upload(await screen.findByLabelText("Chọn ảnh hoặc .zip"), [
      new File(["x"], "a.png", { type: "image/png" }),
    ]);
    act(() =>
      FakeXhr.last[0]!.respond(202, {
        job_id: "j9",
        accepted: [{ image_id: "i1", filename: "a.png" }],
        rejected: [],
        duplicates: [],
      }),
    );
    expect(await screen.findByText(/Tải lên thất bại: Lập chỉ mục không thành công/)).toBeInTheDocument();
    expect(screen.getByText("1 ảnh không lập chỉ mục được:")).toBeInTheDocument();
    expect(screen.getByText("a.png").nextSibling).toHaveTextContent("Ảnh bị hỏng");
    expect(screen.queryByText(/^Xong/)).toBeNull();
  });

  it("searches by a pasted image, and “/” focuses the search box", async () => {
    const { calls } = fakeApi({
      "GET /collections": () => json({ items: [] }),
      "POST /search/image": () => json(searchResponse([result(4)])),
    });
    const { user } = renderUi(<App />);
    await user.keyboard("/");
    expect(screen.getByRole("searchbox")).toHaveFocus();

    const file = new File([new Uint8Array([1])], "dan.png", { type: "image/png" });
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    Object.defineProperty(paste, "clipboardData", {
      value: {
        items: [
          { kind: "string", type: "text/plain" },
          { kind: "file", type: "image/png", getAsFile: () => file },
        ],
      },
    });
    act(() => {
      window.dispatchEvent(paste);
    });
    expect(paste.defaultPrevented).toBe(true);
    expect(await screen.findByRole("heading", { name: "Ảnh giống “dan.png”" })).toBeInTheDocument();
    expect(((calls.find((c) => c.path === "/search/image")?.body as FormData).get("file") as File).name).toBe(
      "dan.png",
    );
  });

  it("lists each file's reason when no file of a batch is an image (422 no_valid_images)", async () => {
    FakeXhr.install();
    window.history.replaceState(null, "", "/?c=c1");
    fakeApi({ "GET /collections": () => json({ items: [collection()] }) });
    const { user } = renderUi(<App />);
    await user.upload(await screen.findByLabelText("Chọn ảnh hoặc .zip"), [
      new File([""], "rong.png"),
      new File(["PK"], "x.zip"),
    ]);
    act(() =>
      FakeXhr.last[0]!.respond(422, {
        error: {
          code: "no_valid_images",
          message: "None of the files is an image that can be stored.",
          details: [
            { filename: "rong.png", error: { code: "empty_file", message: "The file is empty." } },
            { filename: "../../etc/passwd", error: { code: "unsafe_path", message: "unsafe" } },
          ],
        },
      }),
    );
    expect(await screen.findByText("2 tệp không được nhận:")).toBeInTheDocument();
    expect(screen.getByText("rong.png").nextSibling).toHaveTextContent("Tệp rỗng.");
    expect(screen.getByText("../../etc/passwd").nextSibling).toHaveTextContent(
      "Đường dẫn trong tệp zip không an toàn",
    );
    expect(screen.getByText("Không có ảnh mới nào để lập chỉ mục.")).toBeInTheDocument();
  });

  it("shows the key's role and hides what it may not do", async () => {
    window.history.replaceState(null, "", "/");
    fakeApi({
      "GET /me": () =>
        json({ role: "read", key_id: "key:1", auth_required: true, permissions: ["read", "search"] }),
      "GET /collections": () => json({ items: [collection({ shared: true, writable: false })] }),
    });
    const { user } = renderUi(<App />);
    expect(await screen.findByText("Khoá chỉ đọc")).toHaveAttribute(
      "title",
      "Khoá này chỉ được tìm kiếm và xem ảnh.",
    );
    await user.click(await screen.findByRole("button", { name: /Hình khối\s*3 ảnh/ }));
    expect(screen.getByText("Khoá API này không được tải ảnh vào thư mục này.")).toBeInTheDocument();
    expect(screen.queryByTestId("dropzone")).toBeNull();
    expect(screen.queryByRole("button", { name: "Xoá thư mục Hình khối" })).toBeNull();
    expect(screen.queryByRole("textbox", { name: "Tên thư mục mới" })).toBeNull();
  });
});
