import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { ApiError } from "../api/errors";
import type { Image } from "../api/types";
import { asApiError } from "./useCollections";

/** One image's record (`GET /images/{id}`), refetched when the id changes. */
export function useImage(
  imageId: string | null,
  authVersion = 0,
): { image: Image | null; error: ApiError | null } {
  const [image, setImage] = useState<Image | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    setImage(null);
    setError(null);
    if (!imageId) return;
    const controller = new AbortController();
    api
      .getImage(imageId, controller.signal)
      .then(setImage)
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(asApiError(err));
      });
    return () => controller.abort();
  }, [imageId, authVersion]);
  return { image, error };
}
