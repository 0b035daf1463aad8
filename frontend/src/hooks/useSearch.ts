// Runs the current search (text, similar image or region, refinement, or an uploaded image) and pages
// through it.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { ApiError } from "../api/errors";
import type {
  ImageFilter,
  MinScore,
  Region,
  SearchMode,
  SearchOrder,
  SearchPage,
  SearchResponse,
  SearchResult,
} from "../api/types";
import { asApiError } from "./useCollections";

export const PAGE_SIZE = 24;
const MAX_OFFSET = 1000; // the API's bound on `offset`

/** Where to search and what to keep, common to every kind of search. */
export interface SearchScope {
  collectionId: string | null;
  minScore: MinScore;
  filters?: ImageFilter;
  order?: SearchOrder;
}

export type SearchSource =
  | ({ kind: "text"; query: string; mode: SearchMode } & SearchScope)
  | ({ kind: "similar"; imageId: string; region: Region | null } & SearchScope)
  | ({ kind: "refine"; query: string | null; positiveIds: string[]; negativeIds: string[] } & SearchScope)
  | ({ kind: "file"; file: File; token: number } & SearchScope);

/** What a source searches for, apart from its scope. */
function target(source: SearchSource): unknown {
  switch (source.kind) {
    case "text":
      return [source.query, source.mode];
    case "similar":
      return [source.imageId, source.region];
    case "refine":
      return [source.query, source.positiveIds, source.negativeIds];
    case "file":
      return source.token;
  }
}

export interface SearchState {
  status: "idle" | "loading" | "done" | "error";
  results: SearchResult[];
  response: SearchResponse | null;
  error: ApiError | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  retry: () => void;
}

/** A stable identity for a source: a new one starts a new search. */
export function sourceKey(source: SearchSource | null): string {
  if (!source) return "";
  return JSON.stringify([
    source.kind,
    target(source),
    source.collectionId,
    source.minScore,
    source.filters ?? null,
    source.order ?? null,
  ]);
}

function fetchPage(source: SearchSource, offset: number, signal: AbortSignal): Promise<SearchResponse> {
  const page: SearchPage = {
    collection_id: source.collectionId,
    top_k: PAGE_SIZE,
    offset,
    min_score: source.minScore,
    ...(source.filters ? { filters: source.filters } : {}),
    ...(source.order ? { order: source.order } : {}),
  };
  switch (source.kind) {
    case "text":
      return api.searchText({ query: source.query, mode: source.mode, ...page }, signal);
    case "similar": {
      const region = source.region ? { region: source.region } : {};
      return api.searchSimilar({ image_id: source.imageId, ...region }, page, signal);
    }
    case "refine": {
      const examples = { positive_ids: source.positiveIds, negative_ids: source.negativeIds };
      return api.refine({ ...examples, ...(source.query ? { query: source.query } : {}), ...page }, signal);
    }
    case "file":
      return api.searchByFile(source.file, page, signal);
  }
}

export function useSearch(source: SearchSource | null, refresh: string | number = 0): SearchState {
  const [status, setStatus] = useState<SearchState["status"]>("idle");
  const [results, setResults] = useState<SearchResult[]>([]);
  const [response, setResponse] = useState<SearchResponse | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const sourceRef = useRef(source);
  sourceRef.current = source;
  const moreController = useRef<AbortController | null>(null);
  const key = sourceKey(source);

  useEffect(() => {
    const current = sourceRef.current;
    moreController.current?.abort();
    setResults([]);
    setResponse(null);
    setError(null);
    setHasMore(false);
    setLoadingMore(false);
    if (!current) {
      setStatus("idle");
      return;
    }
    setStatus("loading");
    const controller = new AbortController();
    fetchPage(current, 0, controller.signal)
      .then((page) => {
        setResponse(page);
        setResults(page.results);
        setHasMore(page.results.length === PAGE_SIZE && PAGE_SIZE <= MAX_OFFSET);
        setStatus("done");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(asApiError(err));
        setStatus("error");
      });
    return () => controller.abort();
  }, [key, refresh, attempt]);

  const loadMore = useCallback(() => {
    const current = sourceRef.current;
    if (!current || loadingMore || !hasMore) return;
    const offset = results.length;
    const controller = new AbortController();
    moreController.current = controller;
    setLoadingMore(true);
    fetchPage(current, offset, controller.signal)
      .then((page) => {
        setResponse(page);
        setResults((list) => {
          const seen = new Set(list.map((r) => r.image_id));
          return [...list, ...page.results.filter((r) => !seen.has(r.image_id))];
        });
        setHasMore(page.results.length === PAGE_SIZE && offset + PAGE_SIZE <= MAX_OFFSET);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(asApiError(err));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoadingMore(false);
      });
  }, [hasMore, loadingMore, results.length]);

  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { status, results, response, error, hasMore, loadingMore, loadMore, retry };
}
