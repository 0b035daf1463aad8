// Filenames of images known by id only (the example images of a refinement, from the URL).
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";

export interface ImageNames {
  names: Record<string, string>;
  /** A name already at hand (the tile an example was picked from): no request for it. */
  remember: (imageId: string, filename: string) => void;
}

export function useImageNames(imageIds: string[], authVersion = 0): ImageNames {
  const [names, setNames] = useState<Record<string, string>>({});
  const asked = useRef(new Set<string>());
  const remember = useCallback((imageId: string, filename: string) => {
    setNames((known) => (known[imageId] === filename ? known : { ...known, [imageId]: filename }));
  }, []);
  useEffect(() => asked.current.clear(), [authVersion]);
  const wanted = imageIds.filter((id) => !(id in names)).join(",");
  useEffect(() => {
    for (const id of wanted ? wanted.split(",") : []) {
      if (asked.current.has(id)) continue;
      asked.current.add(id);
      api
        .getImage(id)
        .then((image) => remember(id, image.filename))
        // The chip keeps showing the id; the search itself says why the image cannot be used.
        .catch(() => asked.current.delete(id));
    }
  }, [wanted, authVersion, remember]);
  return { names, remember };
}
