import { useEffect, useRef, useState, type FormEvent } from "react";
import type { MinScore, SearchMode } from "../api/types";
import { useI18n, type MessageKey } from "../i18n/I18n";

interface Props {
  query: string;
  mode: SearchMode;
  minScore: MinScore;
  onSearch: (query: string) => void;
  onImage: (file: File) => void;
  onMode: (mode: SearchMode) => void;
  onMinScore: (value: MinScore) => void;
}

const THRESHOLDS = [0.1, 0.2, 0.3, 0.4];
const MODES: [SearchMode, MessageKey][] = [
  ["hybrid", "modeHybrid"],
  ["dense", "modeDense"],
  ["keyword", "modeKeyword"],
];

/** The first image in a paste or drop, if any. */
export function imageFrom(items: DataTransferItemList | null | undefined): File | null {
  for (const item of Array.from(items ?? [])) {
    if (item.kind === "file" && item.type.startsWith("image/")) return item.getAsFile();
  }
  return null;
}

export function SearchBar({ query, mode, minScore, onSearch, onImage, onMode, onMinScore }: Props) {
  const { t, number } = useI18n();
  const [text, setText] = useState(query);
  const input = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => setText(query), [query]); // Back/forward restore the box

  useEffect(() => {
    // "/" focuses the search box from anywhere but a text field; pasting an image searches by it.
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target?.closest("input, textarea, select, [contenteditable]");
      if (event.key === "/" && !typing) {
        event.preventDefault();
        input.current?.focus();
      }
    };
    const onPaste = (event: ClipboardEvent) => {
      const file = imageFrom(event.clipboardData?.items);
      if (file) {
        event.preventDefault();
        onImage(file);
      }
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("paste", onPaste);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("paste", onPaste);
    };
  }, [onImage]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    if (value) onSearch(value);
  };

  return (
    <form className="searchbar" role="search" onSubmit={submit}>
      <div className="search-row">
        <svg viewBox="0 0 24 24" aria-hidden="true" className="search-icon">
          <circle cx="11" cy="11" r="7" />
          <path d="M16.5 16.5L21 21" />
        </svg>
        <input
          ref={input}
          type="search"
          className="search-input"
          aria-label={t("searchLabel")}
          placeholder={t("searchPlaceholder")}
          value={text}
          maxLength={500}
          enterKeyHint="search"
          onChange={(e) => setText(e.target.value)}
        />
        <button
          type="button"
          className="icon-button camera"
          aria-label={t("searchByImage")}
          title={t("searchByImage")}
          onClick={() => fileInput.current?.click()}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <rect x="3" y="6" width="18" height="14" rx="2" />
            <circle cx="12" cy="13" r="3.5" />
            <path d="M8 6l1.5-2h5L16 6" />
          </svg>
        </button>
        <button type="submit" className="button primary search-button">
          {t("searchButton")}
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="image/*"
          hidden
          aria-label={t("searchByImage")}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = "";
            if (file) onImage(file);
          }}
        />
      </div>
      <div className="search-options">
        <p className="muted hint">{t("pasteHint")}</p>
        <span className="search-controls">
          <label className="search-control">
            <span>{t("modeLabel")}</span>
            <select value={mode} onChange={(e) => onMode(e.target.value as SearchMode)}>
              {MODES.map(([value, label]) => (
                <option key={value} value={value}>
                  {t(label)}
                </option>
              ))}
            </select>
          </label>
          <label className="search-control">
            <span>{t("minScore")}</span>
            <select
              value={minScore === null ? "" : String(minScore)}
              onChange={(e) => {
                const value = e.target.value;
                onMinScore(value === "" ? null : value === "auto" ? "auto" : Number(value));
              }}
            >
              <option value="auto">{t("strongOnly")}</option>
              <option value="">{t("anyScore")}</option>
              {THRESHOLDS.map((v) => (
                <option key={v} value={String(v)}>
                  ≥ {number(v, 2)}
                </option>
              ))}
            </select>
          </label>
        </span>
      </div>
    </form>
  );
}
