import { useId, type ReactNode } from "react";
import type { Album, CameraCount } from "../api/types";
import { cameraLabel } from "../catalog/format";
import { useI18n } from "../i18n/I18n";
import { hasFilters, type FilterState } from "../search/filters";

interface Props {
  state: FilterState;
  /** The folder searched; camera, album and tag belong to one folder, so they need one. */
  collectionId: string | null;
  cameras: CameraCount[];
  albums: Album[];
  tags: string[];
  onChange: (patch: Partial<FilterState>) => void;
  onClear: () => void;
}

/** A labelled control; the label names it exactly (a wrapping label would add the chosen option). */
function Filter({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="filter">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

/** Filters under the search box: date range, camera, album, tag, and the order of the results. */
export function FilterBar({ state, collectionId, cameras, albums, tags, onChange, onClear }: Props) {
  const { t } = useI18n();
  const models = cameras.filter((c) => c.model);
  // A filter from the URL that the folder's lists do not (yet) hold stays selectable as itself.
  const cameraOptions = [
    ...new Set([...models.map((c) => c.model!), ...(state.camera ? [state.camera] : [])]),
  ];
  const tagOptions = [...new Set([...tags, ...(state.tag ? [state.tag] : [])])];
  const pick = (value: string) => value || null;
  return (
    <fieldset className="filters">
      <legend className="filters-legend">{t("filters")}</legend>
      <Filter label={t("dateFrom")}>
        {(id) => (
          <input
            id={id}
            type="date"
            value={state.from ?? ""}
            max={state.to ?? undefined}
            onChange={(e) => onChange({ from: pick(e.target.value) })}
          />
        )}
      </Filter>
      <Filter label={t("dateTo")}>
        {(id) => (
          <input
            id={id}
            type="date"
            value={state.to ?? ""}
            min={state.from ?? undefined}
            onChange={(e) => onChange({ to: pick(e.target.value) })}
          />
        )}
      </Filter>
      {collectionId && (
        <>
          <Filter label={t("camera")}>
            {(id) => (
              <select
                id={id}
                value={state.camera ?? ""}
                onChange={(e) => onChange({ camera: pick(e.target.value) })}
              >
                <option value="">{t("anyCamera")}</option>
                {cameraOptions.map((model) => {
                  const known = models.find((c) => c.model === model);
                  return (
                    <option key={model} value={model}>
                      {known ? `${cameraLabel(known.make, known.model)} (${known.count})` : model}
                    </option>
                  );
                })}
              </select>
            )}
          </Filter>
          <Filter label={t("album")}>
            {(id) => (
              <select
                id={id}
                value={state.album ?? ""}
                onChange={(e) => onChange({ album: pick(e.target.value) })}
              >
                <option value="">{t("anyAlbum")}</option>
                {albums.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} ({a.image_count})
                  </option>
                ))}
              </select>
            )}
          </Filter>
          <Filter label={t("tag")}>
            {(id) => (
              <select
                id={id}
                value={state.tag ?? ""}
                onChange={(e) => onChange({ tag: pick(e.target.value) })}
              >
                <option value="">{t("anyTag")}</option>
                {tagOptions.map((tag) => (
                  <option key={tag} value={tag}>
                    {tag}
                  </option>
                ))}
              </select>
            )}
          </Filter>
        </>
      )}
      <Filter label={t("sortLabel")}>
        {(id) => (
          <select
            id={id}
            value={state.sort}
            onChange={(e) => onChange({ sort: e.target.value === "taken_at" ? "taken_at" : "relevance" })}
          >
            <option value="relevance">{t("sortRelevance")}</option>
            <option value="taken_at">{t("sortTakenAt")}</option>
          </select>
        )}
      </Filter>
      {hasFilters(state) && (
        <button type="button" className="link-button clear-filters" onClick={onClear}>
          {t("clearFilters")}
        </button>
      )}
      {!collectionId && <p className="muted hint filters-hint">{t("folderFiltersHint")}</p>}
    </fieldset>
  );
}
