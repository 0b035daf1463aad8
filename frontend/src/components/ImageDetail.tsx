import { useEffect, useRef } from "react";
import { useImage } from "../hooks/useImage";
import { useI18n } from "../i18n/I18n";

interface Props {
  imageId: string;
  score: number | null;
  onClose: () => void;
  onSimilar: (imageId: string) => void;
}

export function ImageDetail({ imageId, score, onClose, onSimilar }: Props) {
  const { t, errorText, number } = useI18n();
  const { image, error } = useImage(imageId);
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeButton.current?.focus();
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      previous?.focus?.();
    };
  }, [onClose]);

  return (
    <div className="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="dialog detail"
        role="dialog"
        aria-modal="true"
        aria-label={image?.filename ?? t("loadingImage")}
      >
        <button
          ref={closeButton}
          type="button"
          className="icon-button close"
          aria-label={t("close")}
          onClick={onClose}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M6 6l12 12M18 6L6 18" />
          </svg>
        </button>
        {error ? (
          <p className="error-text" role="alert">
            {errorText(error.code)}
          </p>
        ) : !image ? (
          <p className="muted" role="status">
            {t("loadingImage")}
          </p>
        ) : (
          <div className="detail-body">
            <div className="detail-image">
              <img src={image.url} alt={image.filename} width={image.width} height={image.height} />
            </div>
            <div className="detail-info">
              <h2 className="detail-title">{image.filename}</h2>
              <dl>
                <dt>{t("size")}</dt>
                <dd>{t("pixels", { w: image.width, h: image.height })}</dd>
                {score !== null && (
                  <>
                    <dt>{t("score")}</dt>
                    <dd>{number(score, 3)}</dd>
                  </>
                )}
              </dl>
              <div className="detail-actions">
                <button type="button" className="button primary" onClick={() => onSimilar(image.image_id)}>
                  {t("similar")}
                </button>
                <a className="button ghost" href={image.url} download={image.filename}>
                  {t("download")}
                </a>
              </div>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
