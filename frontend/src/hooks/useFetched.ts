// One GET whose answer a view shows (a folder's albums, tags or cameras), for one `scope` (the folder;
// null: nothing to fetch). A new scope starts empty; a new `version` of the same scope (after an
// upload or an edit) keeps the last answer on screen while the next one loads.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiError } from "../api/errors";
import { asApiError } from "./useCollections";

export interface Fetched<T> {
  data: T | null;
  error: ApiError | null;
  reload: () => void;
}

export function useFetched<T>(
  scope: string | null,
  version: string | number,
  load: (signal: AbortSignal) => Promise<T>,
): Fetched<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => setData(null), [scope]);
  useEffect(() => {
    setError(null);
    if (scope === null) return;
    const controller = new AbortController();
    loader
      .current(controller.signal)
      .then(setData)
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(asApiError(err));
      });
    return () => controller.abort();
  }, [scope, version, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
