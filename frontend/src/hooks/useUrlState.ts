// The search lives in the URL (`?q=…&c=…&like=…&img=…&min=…`): shareable, and Back works.
import { useCallback, useSyncExternalStore } from "react";
import type { MinScore } from "../api/types";

export interface UrlState {
  q: string;
  c: string | null; // collection to search in; all when null
  like: string | null; // image id: "similar images" search
  img: string | null; // image shown in the detail view
  min: MinScore; // minimum score; "auto" (strong matches only) unless the URL says `min=all` or a number
}

const ALL_SCORES = "all";

const NAV_EVENT = "timanh:navigate";
let cachedSearch: string | null = null;
let cachedState: UrlState | null = null;

export function parseUrl(search: string): UrlState {
  const p = new URLSearchParams(search);
  const min = p.get("min");
  const minNumber = min === null || min === "" ? NaN : Number(min);
  const minScore: MinScore = min === ALL_SCORES ? null : Number.isFinite(minNumber) ? minNumber : "auto";
  return {
    q: p.get("q") ?? "",
    c: p.get("c") || null,
    like: p.get("like") || null,
    img: p.get("img") || null,
    min: minScore,
  };
}

export function buildSearch(state: UrlState): string {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.c) p.set("c", state.c);
  if (state.like) p.set("like", state.like);
  if (state.min !== "auto") p.set("min", state.min === null ? ALL_SCORES : String(state.min));
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
