// A folder's albums, tags and cameras, for the filters and the detail view.
import { api } from "../api/client";
import type { Album, CameraCount } from "../api/types";
import { useFetched, type Fetched } from "./useFetched";

export function useAlbums(collectionId: string | null, version: string | number = 0): Fetched<Album[]> {
  return useFetched(collectionId, version, (signal) => api.listAlbums(collectionId!, signal));
}

export function useTags(collectionId: string | null, version: string | number = 0): Fetched<string[]> {
  return useFetched(collectionId, version, (signal) =>
    api.listTags(collectionId!, signal).then((items) => items.map((t) => t.tag)),
  );
}

export function useCameras(
  collectionId: string | null,
  version: string | number = 0,
): Fetched<CameraCount[]> {
  return useFetched(collectionId, version, (signal) => api.listCameras(collectionId!, signal));
}
