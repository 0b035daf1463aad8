import type { Image } from "../api/types";
import { groupByMonth, monthLabel } from "../catalog/format";
import type { BrowseState } from "../hooks/useBrowse";
import { useI18n } from "../i18n/I18n";
import { ImageTile } from "./ImageTile";

interface Props {
  browse: BrowseState;
  onOpen: (image: Image) => void;
}

/** A folder without a query: its images by date taken under month headers, undated at the end. */
export function BrowseView({ browse, onOpen }: Props) {
  const { t, lang, errorText } = useI18n();
  const { status, items, error } = browse;
  if (status === "loading") {
    return (
      <div className="state" role="status" aria-live="polite">
        <span className="spinner" aria-hidden="true" />
        {t("loadingImage")}
      </div>
    );
  }
  if (status === "error" && error) {
    return (
      <div className="state error-state" role="alert">
        <p>{errorText(error.code)}</p>
        <button type="button" className="button" onClick={browse.retry}>
          {t("retry")}
        </button>
      </div>
    );
  }
  if (status !== "done") return null;
  if (items.length === 0) {
    return (
      <div className="state empty-state" role="status">
        <p>{t("browseEmpty")}</p>
      </div>
    );
  }
  return (
    <section className="results browse" aria-labelledby="browse-title">
      <header className="results-header">
        <h2 id="browse-title" className="results-title">
          {t("browse")}
        </h2>
        <p className="muted" data-testid="browse-summary">
          {t("browseCount", { n: items.length })}
        </p>
      </header>
      {groupByMonth(items).map((group) => (
        <section key={group.key} className="month" aria-labelledby={`month-${group.key}`}>
          <h3 id={`month-${group.key}`} className="month-title">
            {group.year !== null && group.month !== null
              ? monthLabel(lang, group.year, group.month)
              : t("undated")}
          </h3>
          <ul className="grid">
            {group.items.map((image) => (
              <ImageTile
                key={image.image_id}
                filename={image.filename}
                thumbnailUrl={image.thumbnail_url}
                takenAt={image.taken_at}
                takenTzOffsetMin={image.taken_tz_offset_min}
                onOpen={() => onOpen(image)}
              />
            ))}
          </ul>
        </section>
      ))}
      {error && (
        <p className="error-text" role="alert">
          {errorText(error.code)}
        </p>
      )}
      {browse.hasMore && (
        <div className="more">
          <button type="button" className="button" disabled={browse.loadingMore} onClick={browse.loadMore}>
            {browse.loadingMore ? t("loadingMore") : t("loadMore")}
          </button>
        </div>
      )}
    </section>
  );
}
