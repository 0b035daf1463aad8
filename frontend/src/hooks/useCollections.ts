import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import { ApiError } from "../api/errors";
import type { Collection } from "../api/types";

export interface Collections {
  items: Collection[];
  loading: boolean;
  error: ApiError | null;
  reload: () => void;
  create: (name: string) => Promise<Collection>;
  remove: (id: string) => Promise<void>;
}

export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, "unknown", String(err));
}

export function useCollections(authVersion: number): Collections {
  const [items, setItems] = useState<Collection[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    api
      .listCollections(controller.signal)
      .then((list) => {
        setItems(list);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(asApiError(err));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [authVersion, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const create = useCallback(async (name: string) => {
    const created = await api.createCollection(name);
    setItems((list) => [...list, created]);
    return created;
  }, []);
  const remove = useCallback(async (id: string) => {
    await api.deleteCollection(id);
    setItems((list) => list.filter((c) => c.id !== id));
  }, []);
  return { items, loading, error, reload, create, remove };
}
