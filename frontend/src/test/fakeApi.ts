// A stand-in for the gateway in component tests: routes `fetch` calls to handlers and records them.
import { vi } from "vitest";
import type { Collection, Image, Job, SearchResponse, SearchResult } from "../api/types";

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Handler = (call: Recorded) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

export function apiError(status: number, code: string, message = code): Response {
  return json({ error: { code, message, details: null } }, status);
}

/** Install handlers keyed "METHOD /path" (path after /api/v1, query string dropped). */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Recorded[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init.method ?? "GET").toUpperCase();
    const path = url.pathname.replace(/^\/api\/v1/, "");
    let body: unknown = init.body;
    if (typeof init.body === "string") body = JSON.parse(init.body);
    const call = { method, path, query: url.searchParams, headers: new Headers(init.headers), body };
    calls.push(call);
    const handler = routes[`${method} ${path}`];
    if (!handler) return apiError(404, "not_found", `no fake route for ${method} ${path}`);
    return handler(call);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export function collection(overrides: Partial<Collection> = {}): Collection {
  return {
    id: "c1",
    name: "Hình khối",
    image_count: 3,
    created_at: "2025-01-01T00:00:00Z",
    shared: false,
    writable: true,
    ...overrides,
  };
}

export function result(i: number, overrides: Partial<SearchResult> = {}): SearchResult {
  return {
    image_id: `img${i}`,
    collection_id: "c1",
    score: 0.9 - i * 0.01,
    match: null,
    filename: `hinh-${i}.png`,
    url: `/api/v1/images/img${i}/content?exp=1&sig=a`,
    thumbnail_url: `/api/v1/images/img${i}/thumbnail?exp=1&sig=a`,
    width: 64,
    height: 48,
    ...overrides,
  };
}

export function searchResponse(
  results: SearchResult[],
  overrides: Partial<SearchResponse> = {},
): SearchResponse {
  return {
    results,
    total_candidates: 100,
    took_ms: 12.5,
    cached: false,
    model_version: "m1",
    index_version: "i1",
    partial: false,
    relevance_threshold: null,
    calibrated: false,
    best_score: results[0]?.score ?? null,
    empty_reason: results.length ? null : "nothing_indexed",
    mode: "hybrid",
    ...overrides,
  };
}

export function image(i: number, overrides: Partial<Image> = {}): Image {
  const r = result(i);
  return {
    image_id: r.image_id,
    collection_id: r.collection_id,
    filename: r.filename,
    width: 64,
    height: 48,
    content_type: "image/png",
    size: 1234,
    created_at: "2025-01-01T00:00:00Z",
    url: r.url,
    thumbnail_url: r.thumbnail_url,
    ...overrides,
  };
}

export function job(overrides: Partial<Job> = {}): Job {
  return {
    job_id: "j1",
    collection_id: "c1",
    status: "running",
    total: 2,
    done: 0,
    failed: 0,
    errors: [],
    ...overrides,
  };
}

/** A fake XMLHttpRequest: each `send` waits for the test to answer it through `respond`. */
export class FakeXhr {
  static last: FakeXhr[] = [];
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = "";
  responseType = "";
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } =
    {
      onprogress: null,
    };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: FormData) {
    this.body = body;
    FakeXhr.last.push(this);
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }

  static install() {
    FakeXhr.last = [];
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
  }
}
