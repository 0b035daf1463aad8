import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeXhr, apiError, collection, fakeApi, json, result, searchResponse } from "../test/fakeApi";
import { onUnauthorized, setApiKey } from "./auth";
import { ApiError, api } from "./client";
import { uploadImages } from "./upload";

describe("api client", () => {
  afterEach(() => FakeXhr.last.splice(0));

  it("lists collections and sends the stored API key", async () => {
    const { calls } = fakeApi({ "GET /collections": () => json({ items: [collection()] }) });
    setApiKey("  k-123 ");
    const items = await api.listCollections();
    expect(items.map((c) => c.name)).toEqual(["Hình khối"]);
    expect(calls[0]?.headers.get("X-API-Key")).toBe("k-123");
  });

  it("sends no key header when none is stored", async () => {
    const { calls } = fakeApi({ "GET /collections": () => json({ items: [] }) });
    await api.listCollections();
    expect(calls[0]?.headers.has("X-API-Key")).toBe(false);
  });

  it("turns the error body into an ApiError with the code", async () => {
    fakeApi({ "POST /search": () => apiError(422, "empty_query", "The query is empty.") });
    const err = await api.searchText({ query: " ", top_k: 20, offset: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: "empty_query", message: "The query is empty." });
  });

  it("reports a 401 to the listeners", async () => {
    fakeApi({ "GET /collections": () => apiError(401, "missing_api_key") });
    const listener = vi.fn();
    const off = onUnauthorized(listener);
    await expect(api.listCollections()).rejects.toMatchObject({ status: 401 });
    off();
    expect(listener).toHaveBeenCalledOnce();
  });

  it("says network_error when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.getJob("j1")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("posts a text search as JSON", async () => {
    const { calls } = fakeApi({ "POST /search": () => json(searchResponse([result(1)])) });
    const page = await api.searchText({ query: "hai ngôi sao", collection_id: "c1", top_k: 24, offset: 24 });
    expect(page.results[0]?.image_id).toBe("img1");
    expect(calls[0]?.body).toEqual({ query: "hai ngôi sao", collection_id: "c1", top_k: 24, offset: 24 });
    expect(calls[0]?.headers.get("Content-Type")).toBe("application/json");
  });

  it("asks for similar images by id, and by an uploaded file as multipart", async () => {
    const { calls } = fakeApi({ "POST /search/image": () => json(searchResponse([])) });
    await api.searchSimilar({ image_id: "img7" }, { top_k: 24, offset: 0, collection_id: null });
    expect(calls[0]?.body).toEqual({ image_id: "img7", top_k: 24, offset: 0, collection_id: null });

    const file = new File([new Uint8Array([1, 2, 3])], "anh.png", { type: "image/png" });
    await api.searchByFile(file, { top_k: 24, offset: 48, collection_id: null, min_score: 0.2 });
    const form = calls[1]?.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect((form.get("file") as File).name).toBe("anh.png");
    expect(form.get("offset")).toBe("48");
    expect(form.get("min_score")).toBe("0.2");
    expect(form.has("collection_id")).toBe(false);
    await api.searchByFile(file, { top_k: 24, offset: 0, filters: { tag: "tết" }, order: "taken_at" });
    const filtered = calls[2]?.body as FormData;
    expect(JSON.parse(filtered.get("filters") as string)).toEqual({ tag: "tết" });
    expect(filtered.get("order")).toBe("taken_at");
  });

  it("browses a folder by date with a cursor, and edits albums and tags", async () => {
    const { calls } = fakeApi({
      "GET /collections/c1/images": () => json({ items: [], next_cursor: null }),
      "POST /collections/c1/albums/a1/images": () =>
        json({ album: { id: "a1", collection_id: "c1", name: "Tết", created_at: "", image_count: 1 } }),
      "PATCH /images/img1": () => json({}),
    });
    await api.listImages("c1", "abc", 60);
    expect(Object.fromEntries(calls[0]!.query)).toEqual({
      order: "taken_at",
      direction: "desc",
      limit: "60",
      cursor: "abc",
    });
    await api.addToAlbum("c1", "a1", ["img1"]);
    expect(calls[1]?.body).toEqual({ image_ids: ["img1"] });
    await api.updateImage("img1", { add_tags: ["biển"] });
    expect(calls[2]).toMatchObject({ method: "PATCH", body: { add_tags: ["biển"] } });
  });

  it("deletes a collection (204, no body)", async () => {
    const { calls } = fakeApi({ "DELETE /collections/a%2Fb": () => new Response(null, { status: 204 }) });
    await expect(api.deleteCollection("a/b")).resolves.toBeNull();
    expect(calls).toHaveLength(1);
  });
});

describe("uploadImages", () => {
  it("reports byte progress and resolves with the upload result", async () => {
    FakeXhr.install();
    setApiKey("k");
    const progress = vi.fn();
    const files = [new File(["a"], "a.png"), new File(["b"], "b.png")];
    const { promise } = uploadImages("c1", files, progress);
    const xhr = FakeXhr.last[0]!;
    expect(xhr.url).toBe("/api/v1/collections/c1/images");
    expect(xhr.headers["X-API-Key"]).toBe("k");
    expect(xhr.body?.getAll("files")).toHaveLength(2);
    xhr.progress(50, 100);
    expect(progress).toHaveBeenCalledWith(50, 100);
    const body = {
      job_id: "j1",
      accepted: [{ image_id: "i1", filename: "a.png" }],
      rejected: [],
      duplicates: [],
    };
    xhr.respond(202, body);
    await expect(promise).resolves.toEqual(body);
  });

  it("rejects with the API's code, and payload_too_large on a bare 413", async () => {
    FakeXhr.install();
    const first = uploadImages("c1", [new File(["a"], "a.png")], () => {});
    FakeXhr.last[0]!.respond(404, { error: { code: "collection_not_found", message: "No such collection" } });
    await expect(first.promise).rejects.toMatchObject({ status: 404, code: "collection_not_found" });

    const second = uploadImages("c1", [new File(["a"], "a.png")], () => {});
    const xhr = FakeXhr.last[1]!;
    xhr.status = 413;
    xhr.responseText = "Request Entity Too Large";
    xhr.onload?.();
    await expect(second.promise).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
  });
});
