// The filters and order a person chose (kept in the URL) as the `filters` and `order` of a search body.
import type { ImageFilter, SearchOrder } from "../api/types";
import type { UrlState } from "../hooks/useUrlState";

export type FilterState = Pick<UrlState, "from" | "to" | "camera" | "album" | "tag" | "sort">;

/** The day after `YYYY-MM-DD`, as `YYYY-MM-DD`. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * Days as bounds on the date taken: `from` at its midnight (inclusive), `to` through its last moment
 * (`taken_before` is exclusive, so the next midnight). Bounds carry no zone, so they read as the
 * camera's clock for photos without one, and as UTC for the rest, the way the catalog compares them.
 */
export function searchFilters(state: FilterState): { filters?: ImageFilter; order?: SearchOrder } {
  const filters: ImageFilter = {};
  if (state.from) filters.taken_after = `${state.from}T00:00:00`;
  if (state.to) filters.taken_before = `${nextDay(state.to)}T00:00:00`;
  if (state.camera) filters.camera = state.camera;
  if (state.album) filters.album_id = state.album;
  if (state.tag) filters.tag = state.tag;
  return {
    ...(Object.keys(filters).length ? { filters } : {}),
    ...(state.sort !== "relevance" ? { order: state.sort } : {}),
  };
}

export function hasFilters(state: FilterState): boolean {
  return Boolean(
    state.from || state.to || state.camera || state.album || state.tag || state.sort !== "relevance",
  );
}
