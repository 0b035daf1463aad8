import type { ReactNode } from "react";
import { formatTakenAt } from "../catalog/format";
import { useI18n } from "../i18n/I18n";

interface Props {
  filename: string;
  thumbnailUrl: string;
  takenAt?: string | null;
  takenTzOffsetMin?: number | null;
  className?: string;
  onOpen: () => void;
  children?: ReactNode; // after the name: badges, the score
  detail?: ReactNode; // under the name: why it matched
  actions?: ReactNode; // buttons of their own, beside the one that opens the image
}

/** One picture of a grid (search results, browsing by date): its thumbnail, name and date taken. */
export function ImageTile({
  filename,
  thumbnailUrl,
  takenAt,
  takenTzOffsetMin,
  className,
  onOpen,
  children,
  detail,
  actions,
}: Props) {
  const { t, lang } = useI18n();
  return (
    <li className={className ?? "result"}>
      <button
        type="button"
        className="result-button"
        onClick={onOpen}
        aria-label={t("openImage", { name: filename })}
      >
        <img src={thumbnailUrl} alt={filename} loading="lazy" decoding="async" width={256} height={256} />
        <span className="result-meta">
          <span className="result-name">{filename}</span>
          {children}
        </span>
        {detail}
        {takenAt && <span className="result-date">{formatTakenAt(lang, takenAt, takenTzOffsetMin)}</span>}
      </button>
      {actions}
    </li>
  );
}
