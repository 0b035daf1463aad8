// What the URL (and a picked file) asks to search: the source `useSearch` runs.
import type { SearchSource } from "../hooks/useSearch";
import type { UrlState } from "../hooks/useUrlState";
import { searchFilters } from "./filters";

export interface PickedFile {
  file: File;
  token: number; // a new pick of the same file is a new search
}

/** A similar image comes before a text, a text before a file. Example images (`more`, `less`) turn
 * a text or similar-image search into a refinement of it: the text is kept, the similar image is
 * the first "more like"; a region search is not refined (the API takes whole images as examples). */
export function searchSource(url: UrlState, file: PickedFile | null): SearchSource | null {
  const scope = { collectionId: url.c, minScore: url.min, ...searchFilters(url) };
  const refined = url.more.length > 0 || url.less.length > 0;
  if (url.like) {
    if (url.region || !refined) return { kind: "similar", imageId: url.like, region: url.region, ...scope };
    const positiveIds = [url.like, ...url.more.filter((id) => id !== url.like)];
    return { kind: "refine", query: null, positiveIds, negativeIds: url.less, ...scope };
  }
  if (url.q && refined) {
    return { kind: "refine", query: url.q, positiveIds: url.more, negativeIds: url.less, ...scope };
  }
  if (url.q) return { kind: "text", query: url.q, mode: url.mode, ...scope };
  if (file) return { kind: "file", ...file, ...scope };
  return null;
}

/** Whether example images can refine a source's results. */
export function refinable(source: SearchSource | null): boolean {
  if (source === null) return false;
  return source.kind === "text" || source.kind === "refine" || (source.kind === "similar" && !source.region);
}
