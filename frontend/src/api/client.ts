// The typed client of the gateway's public API (`/api/v1`); bodies come from the OpenAPI schema.
import { authHeaders, reportUnauthorized } from "./auth";
import { ApiError, errorFrom, networkError } from "./errors";
import type {
  Collection,
  CollectionList,
  Identity,
  Image,
  Job,
  SearchPage,
  SearchQuery,
  SearchResponse,
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
  searchText: (query: SearchQuery, signal?: AbortSignal) =>
    call<SearchResponse>("POST", "/search", { json: query, signal }),
  searchSimilar: (imageId: string, page: SearchPage, signal?: AbortSignal) =>
    call<SearchResponse>("POST", "/search/image", { json: { image_id: imageId, ...page }, signal }),
  searchByFile: (file: Blob, page: SearchPage, signal?: AbortSignal) => {
    const form = new FormData();
    form.append("file", file, file instanceof File ? file.name : "image");
    for (const [key, value] of Object.entries(page)) {
      if (value !== null && value !== undefined) form.append(key, String(value));
    }
    return call<SearchResponse>("POST", "/search/image", { form, signal });
  },
};

export { ApiError };
