import type { MinScore, SearchResponse, SearchResult, TextMatch } from "../api/types";
import type { SearchState } from "../hooks/useSearch";
import { useI18n } from "../i18n/I18n";
import { highlightParts } from "../search/highlight";
import { ImageTile } from "./ImageTile";

/** "more": find more images like this one; "less": fewer. */
export type Direction = "more" | "less";

interface Props {
  title: string;
  titleImage?: string | null; // the query image of a similar-image search
  search: SearchState;
  minScore: MinScore;
  onOpen: (result: SearchResult) => void;
  onShowClosest: () => void; // search again without a minimum score
  /** Badges for why each result matched, where a search may match by the picture or by the words. */
  explain?: boolean;
  onRefine?: (result: SearchResult, direction: Direction) => void; // absent: the search cannot be refined
  onHybrid?: () => void; // search the words and the picture, when the words alone found nothing
}

function Snippet({ match }: { match: TextMatch }) {
  return (
    <span className="snippet">
      {highlightParts(match).map((part, i) => (part.matched ? <mark key={i}>{part.text}</mark> : part.text))}
    </span>
  );
}

function RefineActions({ onRefine }: { onRefine: (direction: Direction) => void }) {
  const { t } = useI18n();
  return (
    <span className="refine-actions">
      <button type="button" className="refine-button" onClick={() => onRefine("more")}>
        <span aria-hidden="true">+</span> {t("moreLikeThis")}
      </button>
      <button type="button" className="refine-button" onClick={() => onRefine("less")}>
        <span aria-hidden="true">−</span> {t("lessLikeThis")}
      </button>
    </span>
  );
}

function ResultCard({
  result,
  explain,
  onOpen,
  onRefine,
}: {
  result: SearchResult;
  explain: boolean;
  onOpen: (r: SearchResult) => void;
  onRefine?: Props["onRefine"];
}) {
  const { t, number } = useI18n();
  const matched = explain ? (result.matched ?? []) : [];
  // A result its words brought is no weak match, whatever its picture scores.
  const weak = result.match === "weak" && !(result.matched ?? []).includes("text");
  return (
    <ImageTile
      filename={result.filename}
      thumbnailUrl={result.thumbnail_url}
      takenAt={result.taken_at}
      takenTzOffsetMin={result.taken_tz_offset_min}
      className={weak ? "result weak" : "result"}
      onOpen={() => onOpen(result)}
      detail={result.text_match && <Snippet match={result.text_match} />}
      actions={onRefine && <RefineActions onRefine={(direction) => onRefine(result, direction)} />}
    >
      {weak && (
        <span className="badge weak-badge" title={t("weakMatchHint")}>
          {t("weakMatch")}
        </span>
      )}
      {matched.includes("image") && (
        <span className="badge matched-badge" title={t("matchedImageHint")}>
          {t("matchedImage")}
        </span>
      )}
      {matched.includes("text") && (
        <span className="badge matched-badge" title={t("matchedTextHint")}>
          {t("matchedText")}
        </span>
      )}
      <span className="score" title={t("score")}>
        {number(result.score, 3)}
      </span>
    </ImageTile>
  );
}

function EmptyState({
  response,
  minScore,
  onShowClosest,
  onHybrid,
}: {
  response: SearchResponse;
  minScore: MinScore;
  onShowClosest: () => void;
  onHybrid?: () => void;
}) {
  const { t, number } = useI18n();
  if (response.empty_reason === "no_text_match") {
    return (
      <div className="state empty-state" role="status">
        <h2>{t("noTextTitle")}</h2>
        <p>{t("noTextBody")}</p>
        {onHybrid && (
          <button type="button" className="button primary" onClick={onHybrid}>
            {t("searchHybrid")}
          </button>
        )}
      </div>
    );
  }
  if (response.empty_reason === "no_strong_match") {
    return (
      <div className="state empty-state" role="status">
        <h2>{t("noStrongTitle")}</h2>
        <p>
          {t("noStrongBody", {
            best: number(response.best_score ?? 0, 2),
            threshold: number(response.relevance_threshold ?? 0, 2),
          })}
        </p>
        <button type="button" className="button primary" onClick={onShowClosest}>
          {t("showClosest")}
        </button>
      </div>
    );
  }
  if (response.empty_reason === "filter_matched_nothing") {
    return (
      <div className="state empty-state" role="status">
        <h2>{t("emptyTitle")}</h2>
        <p>{t("emptyFiltered")}</p>
      </div>
    );
  }
  const below = response.empty_reason === "below_min_score" && typeof minScore === "number";
  return (
    <div className="state empty-state" role="status">
      <h2>{t("emptyTitle")}</h2>
      <p>{below ? t("emptyThreshold", { min: number(minScore, 2) }) : t("emptyIndex")}</p>
    </div>
  );
}

export function ResultsGrid({
  title,
  titleImage,
  search,
  minScore,
  onOpen,
  onShowClosest,
  explain = false,
  onRefine,
  onHybrid,
}: Props) {
  const { t, errorText, number } = useI18n();
  const { status, results, response, error } = search;

  if (status === "loading") {
    return (
      <div className="state" role="status" aria-live="polite">
        <span className="spinner" aria-hidden="true" />
        {t("loading")}
      </div>
    );
  }
  if (status === "error" && error) {
    return (
      <div className="state error-state" role="alert">
        <h2>{t("errorTitle")}</h2>
        <p>{errorText(error.code)}</p>
        <button type="button" className="button" onClick={search.retry}>
          {t("retry")}
        </button>
      </div>
    );
  }
  if (status !== "done" || !response) return null;
  if (results.length === 0) {
    return (
      <EmptyState response={response} minScore={minScore} onShowClosest={onShowClosest} onHybrid={onHybrid} />
    );
  }
  return (
    <section className="results" aria-label={title}>
      <header className="results-header">
        <h2 className="results-title">
          {titleImage && <img className="query-image" src={titleImage} alt="" width={40} height={40} />}
          {title}
        </h2>
        <p className="muted" data-testid="summary">
          {t("summary", { n: results.length, ms: number(response.took_ms, 0) })}
          {response.cached && <span className="badge">{t("fromCache")}</span>}
        </p>
      </header>
      {response.partial && (
        <p className="warning" role="status">
          {t("partial")}
        </p>
      )}
      <ul className="grid">
        {results.map((r) => (
          <ResultCard key={r.image_id} result={r} explain={explain} onOpen={onOpen} onRefine={onRefine} />
        ))}
      </ul>
      {error && (
        <p className="error-text" role="alert">
          {errorText(error.code)}
        </p>
      )}
      {search.hasMore && (
        <div className="more">
          <button type="button" className="button" disabled={search.loadingMore} onClick={search.loadMore}>
            {search.loadingMore ? t("loadingMore") : t("loadMore")}
          </button>
        </div>
      )}
    </section>
  );
}
