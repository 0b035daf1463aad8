import { useI18n } from "../i18n/I18n";
import { RemoveIcon } from "./RemoveIcon";
import type { Direction } from "./ResultsGrid";

export interface Example {
  imageId: string;
  name: string; // its filename, or its id until the record has come
  direction: Direction;
}

interface Props {
  examples: Example[];
  excluded: string[]; // the phrases the server left out of the search
  onRemove: (example: Example) => void;
}

/** What shapes the search besides its words: example images to find more or fewer like, each
 * removable, and the phrases left out, read-only (they are edited in the query). */
export function SearchChips({ examples, excluded, onRemove }: Props) {
  const { t } = useI18n();
  if (examples.length === 0 && excluded.length === 0) return null;
  return (
    <ul className="chips search-chips" aria-label={t("refinement")}>
      {examples.map((example) => (
        <li key={`${example.direction}:${example.imageId}`} className={`chip ${example.direction}-chip`}>
          <span>{t(example.direction === "more" ? "chipMore" : "chipLess", { name: example.name })}</span>
          <button
            type="button"
            className="chip-remove"
            aria-label={t("removeExample", { name: example.name })}
            title={t("removeExample", { name: example.name })}
            onClick={() => onRemove(example)}
          >
            <RemoveIcon />
          </button>
        </li>
      ))}
      {excluded.map((phrase) => (
        <li
          key={`excluded:${phrase}`}
          className="chip excluded-chip"
          title={t("chipExcludedHint", { phrase })}
        >
          {t("chipExcluded", { phrase })}
        </li>
      ))}
    </ul>
  );
}
