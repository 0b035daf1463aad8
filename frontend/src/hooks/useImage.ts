import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import type { ApiError } from "../api/errors";
import type { Image } from "../api/types";
import { asApiError } from "./useCollections";

export interface ImageState {
  image: Image | null;
  error: ApiError | null;
  /** Show an edited record at once (an edit's answer, or an optimistic change). */
  setImage: (image: Image) => void;
  /** Read the record again (after an edit whose answer is not the image). */
  reload: () => Promise<void>;
}

/** One image's record (`GET /images/{id}`), refetched when the id changes. */
export function useImage(imageId: string | null, authVersion = 0): ImageState {
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
  const reload = useCallback(async () => {
    if (imageId) setImage(await api.getImage(imageId));
  }, [imageId]);
  return { image, error, setImage, reload };
}
