// A folder's images by date taken, newest first, undated last, a page at a time by cursor.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { ApiError } from "../api/errors";
import type { Image } from "../api/types";
import { asApiError } from "./useCollections";

export const BROWSE_PAGE = 60;

export interface BrowseState {
  status: "idle" | "loading" | "done" | "error";
  items: Image[];
  error: ApiError | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  retry: () => void;
}

export function useBrowse(collectionId: string | null, refresh: string | number = 0): BrowseState {
  const [status, setStatus] = useState<BrowseState["status"]>("idle");
  const [items, setItems] = useState<Image[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const more = useRef<AbortController | null>(null);

  useEffect(() => {
    more.current?.abort();
    setItems([]);
    setCursor(null);
    setError(null);
    setLoadingMore(false);
    if (!collectionId) {
      setStatus("idle");
      return;
    }
    setStatus("loading");
    const controller = new AbortController();
    api
      .listImages(collectionId, null, BROWSE_PAGE, controller.signal)
      .then((page) => {
        setItems(page.items);
        setCursor(page.next_cursor ?? null);
        setStatus("done");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(asApiError(err));
        setStatus("error");
      });
    return () => controller.abort();
  }, [collectionId, refresh, attempt]);

  const loadMore = useCallback(() => {
    if (!collectionId || !cursor || loadingMore) return;
    const controller = new AbortController();
    more.current = controller;
    setLoadingMore(true);
    setError(null);
    api
      .listImages(collectionId, cursor, BROWSE_PAGE, controller.signal)
      .then((page) => {
        setItems((list) => {
          const seen = new Set(list.map((i) => i.image_id));
          return [...list, ...page.items.filter((i) => !seen.has(i.image_id))];
        });
        setCursor(page.next_cursor ?? null);
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(asApiError(err));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoadingMore(false);
      });
  }, [collectionId, cursor, loadingMore]);

  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { status, items, error, hasMore: cursor !== null, loadingMore, loadMore, retry };
}
