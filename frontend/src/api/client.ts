// The typed client of the gateway's public API (`/api/v1`); bodies come from the OpenAPI schema.
import { authHeaders, reportUnauthorized } from "./auth";
import { ApiError, errorFrom, networkError } from "./errors";
import type {
  Album,
  AlbumImagesAdded,
  AlbumList,
  CameraList,
  Collection,
  CollectionList,
  Identity,
  Image,
  ImagePage,
  ImageUpdate,
  Job,
  RefineQuery,
  Region,
  SearchMode,
  SearchPage,
  SearchResponse,
  TagList,
} from "./types";

export const API_BASE = "/api/v1";

interface CallOptions {
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form; // the browser sets the multipart boundary
  }
  let response: Response;
  try {
    response = await fetch(API_BASE + path, { method, headers, body, signal: options.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw networkError();
  }
  const data = await readJson(response);
  if (!response.ok) {
    if (response.status === 401) reportUnauthorized();
    throw errorFrom(response.status, data);
  }
  return data as T;
}

const enc = encodeURIComponent;

export const api = {
  me: (signal?: AbortSignal) => call<Identity>("GET", "/me", { signal }),
  listCollections: (signal?: AbortSignal) =>
    call<CollectionList>("GET", "/collections", { signal }).then((list) => list.items),
  createCollection: (name: string) => call<Collection>("POST", "/collections", { json: { name } }),
  deleteCollection: (id: string) => call<null>("DELETE", `/collections/${enc(id)}`),
  getJob: (jobId: string, signal?: AbortSignal) => call<Job>("GET", `/jobs/${enc(jobId)}`, { signal }),
  getImage: (imageId: string, signal?: AbortSignal) =>
    call<Image>("GET", `/images/${enc(imageId)}`, { signal }),
  /** A collection's images by date taken, newest first, undated last; `cursor` from the page before. */
  listImages: (collectionId: string, cursor: string | null, limit: number, signal?: AbortSignal) => {
    const query = new URLSearchParams({ order: "taken_at", direction: "desc", limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return call<ImagePage>("GET", `/collections/${enc(collectionId)}/images?${query}`, { signal });
  },
  listTags: (collectionId: string, signal?: AbortSignal) =>
    call<TagList>("GET", `/collections/${enc(collectionId)}/tags`, { signal }).then((list) => list.items),
  listCameras: (collectionId: string, signal?: AbortSignal) =>
    call<CameraList>("GET", `/collections/${enc(collectionId)}/cameras`, { signal }).then(
      (list) => list.items,
    ),
  listAlbums: (collectionId: string, signal?: AbortSignal) =>
    call<AlbumList>("GET", `/collections/${enc(collectionId)}/albums`, { signal }).then((list) => list.items),
  createAlbum: (collectionId: string, name: string) =>
    call<Album>("POST", `/collections/${enc(collectionId)}/albums`, { json: { name } }),
  addToAlbum: (collectionId: string, albumId: string, imageIds: string[]) =>
    call<AlbumImagesAdded>("POST", `/collections/${enc(collectionId)}/albums/${enc(albumId)}/images`, {
      json: { image_ids: imageIds },
    }),
  removeFromAlbum: (collectionId: string, albumId: string, imageId: string) =>
    call<null>("DELETE", `/collections/${enc(collectionId)}/albums/${enc(albumId)}/images/${enc(imageId)}`),
  updateImage: (imageId: string, update: Partial<ImageUpdate>) =>
    call<Image>("PATCH", `/images/${enc(imageId)}`, { json: update }),
  searchText: (query: { query: string; mode?: SearchMode } & SearchPage, signal?: AbortSignal) =>
    call<SearchResponse>("POST", "/search", { json: query, signal }),
  /** Images like a stored one, or like a `region` of it. */
  searchSimilar: (target: { image_id: string; region?: Region }, page: SearchPage, signal?: AbortSignal) =>
    call<SearchResponse>("POST", "/search/image", { json: { ...target, ...page }, signal }),
  /** More like `positive_ids`, fewer like `negative_ids`, optionally with the text being refined. */
  refine: (
    query: Pick<RefineQuery, "positive_ids" | "negative_ids" | "query"> & SearchPage,
    signal?: AbortSignal,
  ) => call<SearchResponse>("POST", "/search/refine", { json: query, signal }),
  searchByFile: (file: Blob, page: SearchPage, signal?: AbortSignal) => {
    const form = new FormData();
    form.append("file", file, file instanceof File ? file.name : "image");
    for (const [key, value] of Object.entries(page)) {
      if (value === null || value === undefined) continue;
      form.append(key, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    return call<SearchResponse>("POST", "/search/image", { form, signal });
  },
};

export { ApiError };
