// The search lives in the URL (`?q=…&mode=…&c=…&like=…&region=…&more=…&less=…&img=…&min=…&from=…&to=…
// &camera=…&album=…&tag=…&sort=…`): shareable, and Back works.
import { useCallback, useSyncExternalStore } from "react";
import type { MinScore, Region, SearchMode, SearchOrder } from "../api/types";
import { formatRegion, parseRegion } from "../search/region";

export interface UrlState {
  q: string;
  mode: SearchMode; // how a text search ranks: "hybrid" unless the URL says `mode=dense` or `keyword`
  c: string | null; // collection to search in; all when null
  like: string | null; // image id: "similar images" search
  region: Region | null; // with `like`: search by this part of that image only
  more: string[]; // image ids: refine the search towards images like these
  less: string[]; // image ids: refine it away from images like these
  img: string | null; // image shown in the detail view
  min: MinScore; // minimum score; "auto" (strong matches only) unless the URL says `min=all` or a number
  from: string | null; // taken on or after this day (YYYY-MM-DD)
  to: string | null; // taken on or before this day
  camera: string | null; // camera model
  album: string | null; // album id
  tag: string | null;
  sort: SearchOrder;
}

/** The URL fields that narrow or order a search; a new folder clears the folder's own ones. */
export const FILTER_KEYS = ["from", "to", "camera", "album", "tag", "sort"] as const;
export const NO_FILTERS = {
  from: null,
  to: null,
  camera: null,
  album: null,
  tag: null,
  sort: "relevance",
} satisfies Pick<UrlState, (typeof FILTER_KEYS)[number]>;

/** No search: what a new one starts from (a new query, a new "similar" image). */
export const NO_SEARCH = {
  q: "",
  like: null,
  region: null,
  more: [],
  less: [],
} satisfies Pick<UrlState, "q" | "like" | "region" | "more" | "less">;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(value: string | null): string | null {
  return value && DAY.test(value) ? value : null;
}

const ALL_SCORES = "all";
const MODES: readonly SearchMode[] = ["hybrid", "dense", "keyword"];
/** The API's bound on each list of example images. */
export const MAX_EXAMPLES = 20;

function ids(value: string | null): string[] {
  const list = (value ?? "").split(",").filter(Boolean);
  return [...new Set(list)].slice(0, MAX_EXAMPLES);
}

const NAV_EVENT = "timanh:navigate";
let cachedSearch: string | null = null;
let cachedState: UrlState | null = null;

export function parseUrl(search: string): UrlState {
  const p = new URLSearchParams(search);
  const min = p.get("min");
  const minNumber = min === null || min === "" ? NaN : Number(min);
  const minScore: MinScore = min === ALL_SCORES ? null : Number.isFinite(minNumber) ? minNumber : "auto";
  const mode = MODES.find((m) => m === p.get("mode")) ?? "hybrid";
  return {
    q: p.get("q") ?? "",
    mode,
    c: p.get("c") || null,
    like: p.get("like") || null,
    region: parseRegion(p.get("region")),
    more: ids(p.get("more")),
    less: ids(p.get("less")),
    img: p.get("img") || null,
    min: minScore,
    from: day(p.get("from")),
    to: day(p.get("to")),
    camera: p.get("camera") || null,
    album: p.get("album") || null,
    tag: p.get("tag") || null,
    sort: p.get("sort") === "taken_at" ? "taken_at" : "relevance",
  };
}

export function buildSearch(state: UrlState): string {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.mode !== "hybrid") p.set("mode", state.mode);
  if (state.c) p.set("c", state.c);
  if (state.like) p.set("like", state.like);
  if (state.region) p.set("region", formatRegion(state.region));
  if (state.more.length) p.set("more", state.more.join(","));
  if (state.less.length) p.set("less", state.less.join(","));
  if (state.min !== "auto") p.set("min", state.min === null ? ALL_SCORES : String(state.min));
  if (state.from) p.set("from", state.from);
  if (state.to) p.set("to", state.to);
  if (state.camera) p.set("camera", state.camera);
  if (state.album) p.set("album", state.album);
  if (state.tag) p.set("tag", state.tag);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.img) p.set("img", state.img);
  const text = p.toString();
  return text ? `?${text}` : "";
}

function snapshot(): UrlState {
  if (cachedState === null || cachedSearch !== window.location.search) {
    cachedSearch = window.location.search;
    cachedState = parseUrl(cachedSearch);
  }
  return cachedState;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAV_EVENT, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAV_EVENT, onChange);
  };
}

export type Navigate = (patch: Partial<UrlState>, options?: { replace?: boolean }) => void;

export function navigate(patch: Partial<UrlState>, options: { replace?: boolean } = {}): void {
  const next = buildSearch({ ...snapshot(), ...patch });
  if (next === window.location.search) return;
  const url = window.location.pathname + next + window.location.hash;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event(NAV_EVENT));
}

export function useUrlState(): [UrlState, Navigate] {
  const state = useSyncExternalStore(subscribe, snapshot);
  return [state, useCallback<Navigate>((patch, options) => navigate(patch, options), [])];
}
