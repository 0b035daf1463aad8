import { useEffect, useRef, useState, type DragEvent } from "react";
import type { Collection } from "../api/types";
import type { Problem, UploadState } from "../hooks/useUpload";
import { useI18n } from "../i18n/I18n";
import { filesFromDrop, visibleFiles } from "../upload/files";
import { ProgressBar } from "./ProgressBar";

interface Props {
  collection: Collection | null;
  state: UploadState;
  onFiles: (files: File[]) => void;
}

function ProblemList({ title, items }: { title: string; items: Problem[] }) {
  const { errorText } = useI18n();
  if (items.length === 0) return null;
  return (
    <div className="problems">
      <p className="problems-title">{title}</p>
      <ul>
        {items.map((p, i) => (
          <li key={`${p.filename}-${i}`}>
            <span className="filename">{p.filename}</span>
            <span className="reason">{errorText(p.code)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function UploadStatus({ state }: { state: UploadState }) {
  const { t, errorText } = useI18n();
  const busy = state.phase === "uploading" || state.phase === "indexing";
  const uploadShare = state.totalBytes ? state.sentBytes / state.totalBytes : 1;
  const indexShare = state.indexTotal ? state.indexDone / state.indexTotal : 1;
  return (
    <div className="upload-status">
      {state.phase === "uploading" && (
        <ProgressBar
          label={t("uploadProgress")}
          value={uploadShare}
          text={t("uploading", { pct: Math.round(uploadShare * 100) })}
        />
      )}
      {(state.phase === "indexing" ||
        state.phase === "done" ||
        (state.phase === "error" && state.indexTotal > 0)) && (
        <ProgressBar
          label={t("indexProgress")}
          value={indexShare}
          text={
            state.phase === "done"
              ? state.indexTotal
                ? t("uploadDone", { n: state.indexed })
                : t("nothingToIndex")
              : t("indexing", { done: state.indexDone, total: state.indexTotal })
          }
        />
      )}
      {state.phase === "error" && state.error && (
        <p className="error-text" role="alert">
          {t("uploadFailed", { reason: errorText(state.error.code) })}
        </p>
      )}
      {!busy && state.duplicates > 0 && <p className="muted">{t("duplicates", { n: state.duplicates })}</p>}
      <ProblemList title={t("rejected", { n: state.rejected.length })} items={state.rejected} />
      <ProblemList title={t("indexFailed", { n: state.indexErrors.length })} items={state.indexErrors} />
    </div>
  );
}

export function UploadPanel({ collection, state, onFiles }: Props) {
  const { t } = useI18n();
  const [over, setOver] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const busy = state.phase === "uploading" || state.phase === "indexing";
  const enabled = collection !== null && !busy;

  useEffect(() => {
    folderInput.current?.setAttribute("webkitdirectory", "");
  }, []);

  const send = (files: File[]) => {
    if (enabled && files.length) onFiles(files);
  };
  const drop = async (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    if (enabled) send(await filesFromDrop(event.dataTransfer));
  };
  const fromInput = (input: HTMLInputElement) => {
    send(visibleFiles(input.files ?? []));
    input.value = "";
  };

  return (
    <section className="panel" aria-labelledby="upload-title">
      <h2 id="upload-title">
        {t("uploadTitle")}
        {collection && <span className="subtitle"> {t("uploadInto", { name: collection.name })}</span>}
      </h2>
      {collection === null ? (
        <p className="muted">{t("pickCollectionFirst")}</p>
      ) : !collection.writable ? (
        <p className="muted">{t("uploadNotAllowed")}</p>
      ) : (
        <div
          className={`dropzone${over ? " over" : ""}${enabled ? "" : " disabled"}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(enabled);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={drop}
          data-testid="dropzone"
        >
          <svg viewBox="0 0 24 24" aria-hidden="true" className="dropzone-icon">
            <path d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v3a1 1 0 001 1h14a1 1 0 001-1v-3" />
          </svg>
          <p>{t("dropHint")}</p>
          <div className="dropzone-actions">
            <button
              type="button"
              className="button small"
              disabled={!enabled}
              onClick={() => filesInput.current?.click()}
            >
              {t("chooseFiles")}
            </button>
            <button
              type="button"
              className="button ghost small"
              disabled={!enabled}
              onClick={() => folderInput.current?.click()}
            >
              {t("chooseFolder")}
            </button>
          </div>
          <input
            ref={filesInput}
            type="file"
            multiple
            accept="image/*,.zip,application/zip"
            hidden
            aria-label={t("chooseFiles")}
            onChange={(e) => fromInput(e.currentTarget)}
          />
          <input
            ref={folderInput}
            type="file"
            multiple
            hidden
            aria-label={t("chooseFolder")}
            onChange={(e) => fromInput(e.currentTarget)}
          />
        </div>
      )}
      {state.phase !== "idle" && <UploadStatus state={state} />}
    </section>
  );
}
