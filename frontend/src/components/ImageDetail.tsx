import { useEffect, useRef, useState } from "react";
import type { Image, Region } from "../api/types";
import {
  cameraLabel,
  formatBytes,
  formatCoordinates,
  formatTakenAt,
  openStreetMapUrl,
} from "../catalog/format";
import { useImage } from "../hooks/useImage";
import { useI18n } from "../i18n/I18n";
import { ImageCuration } from "./ImageCuration";
import { RegionSelect } from "./RegionSelect";

interface Props {
  imageId: string;
  score: number | null;
  /** Whether the key may edit this image's folder: its albums, tags and notes. */
  canEdit: (collectionId: string) => boolean;
  onClose: () => void;
  onSimilar: (imageId: string) => void;
  onRegion: (imageId: string, region: Region) => void; // search by this part of the image
  onEdited: () => void;
}

/** What the file says about itself: when, with what, how large, where. Rows it does not say are left out. */
function Metadata({ image, score }: { image: Image; score: number | null }) {
  const { t, lang, number } = useI18n();
  const camera = cameraLabel(image.camera_make, image.camera_model);
  const place = image.location;
  return (
    <dl>
      {image.taken_at && (
        <>
          <dt>{t("takenAt")}</dt>
          <dd>{formatTakenAt(lang, image.taken_at, image.taken_tz_offset_min)}</dd>
        </>
      )}
      {camera && (
        <>
          <dt>{t("camera")}</dt>
          <dd>{camera}</dd>
        </>
      )}
      <dt>{t("size")}</dt>
      <dd>{t("pixels", { w: image.width, h: image.height })}</dd>
      <dt>{t("fileSize")}</dt>
      <dd>{formatBytes(lang, image.size)}</dd>
      {place && (
        <>
          <dt>{t("location")}</dt>
          <dd>
            <a
              href={openStreetMapUrl(place.latitude, place.longitude)}
              target="_blank"
              rel="noopener noreferrer"
              title={t("openMap")}
            >
              {formatCoordinates(place.latitude, place.longitude)}
            </a>
          </dd>
        </>
      )}
      {image.folder && (
        <>
          <dt>{t("folder")}</dt>
          <dd className="folder-path">{image.folder}</dd>
        </>
      )}
      {score !== null && (
        <>
          <dt>{t("score")}</dt>
          <dd>{number(score, 3)}</dd>
        </>
      )}
    </dl>
  );
}

export function ImageDetail({ imageId, score, canEdit, onClose, onSimilar, onRegion, onEdited }: Props) {
  const { t, errorText } = useI18n();
  const { image, error, setImage, reload } = useImage(imageId);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [selecting, setSelecting] = useState(false);
  const [region, setRegion] = useState<Region | null>(null);

  useEffect(() => {
    setSelecting(false);
    setRegion(null);
  }, [imageId]);

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
              <RegionSelect image={image} active={selecting} region={region} onChange={setRegion} />
            </div>
            <div className="detail-info">
              <h2 className="detail-title">{image.filename}</h2>
              <Metadata image={image} score={score} />
              <div className="detail-actions">
                <button type="button" className="button primary" onClick={() => onSimilar(image.image_id)}>
                  {t("similar")}
                </button>
                <button
                  type="button"
                  className="button"
                  aria-pressed={selecting}
                  onClick={() => {
                    setSelecting((on) => !on);
                    setRegion(null);
                  }}
                >
                  {t("regionMode")}
                </button>
                <a className="button ghost" href={image.url} download={image.filename}>
                  {t("download")}
                </a>
              </div>
              {selecting && (
                <div className="region-actions">
                  <p className="muted hint">{t("regionHint")}</p>
                  <button
                    type="button"
                    className="button primary"
                    disabled={!region}
                    onClick={() => region && onRegion(image.image_id, region)}
                  >
                    {t("regionSearch")}
                  </button>
                </div>
              )}
              <ImageCuration
                image={image}
                canEdit={canEdit(image.collection_id)}
                setImage={setImage}
                reload={reload}
                onEdited={onEdited}
              />
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
