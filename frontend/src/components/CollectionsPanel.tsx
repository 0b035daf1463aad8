import { useState, type FormEvent } from "react";
import type { ApiError } from "../api/errors";
import type { Collection } from "../api/types";
import { asApiError } from "../hooks/useCollections";
import { useI18n } from "../i18n/I18n";

interface Props {
  items: Collection[];
  loading: boolean;
  error: ApiError | null;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  onCreate: (name: string) => Promise<Collection>;
  onDelete: (id: string) => Promise<void>;
  /** Whether the API key may create folders; each folder says itself whether it may delete it. */
  canCreate: boolean;
}

export function CollectionsPanel({
  items,
  loading,
  error,
  selectedId,
  onSelect,
  onCreate,
  onDelete,
  canCreate,
}: Props) {
  const { t, errorText } = useI18n();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
    } catch (err) {
      setActionError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const create = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    void run(async () => {
      const created = await onCreate(trimmed);
      setName("");
      onSelect(created.id);
    });
  };
  const remove = (id: string) =>
    run(async () => {
      await onDelete(id);
      setConfirming(null);
      if (selectedId === id) onSelect(null);
    });
  const shown = error ?? actionError;

  return (
    <section className="panel" aria-labelledby="collections-title">
      <h2 id="collections-title">{t("collections")}</h2>
      <ul className="collections">
        <li>
          <button
            type="button"
            className="collection"
            aria-pressed={selectedId === null}
            onClick={() => onSelect(null)}
          >
            <span className="collection-name">{t("allCollections")}</span>
          </button>
        </li>
        {items.map((c) => (
          <li key={c.id}>
            {confirming === c.id ? (
              <div
                className="confirm"
                role="alertdialog"
                aria-label={t("deleteCollection", { name: c.name })}
              >
                <p>{t("confirmDelete", { name: c.name, n: c.image_count })}</p>
                <div className="confirm-actions">
                  <button
                    type="button"
                    className="button ghost small"
                    autoFocus
                    onClick={() => setConfirming(null)}
                  >
                    {t("cancel")}
                  </button>
                  <button
                    type="button"
                    className="button danger small"
                    disabled={busy}
                    onClick={() => remove(c.id)}
                  >
                    {t("confirm")}
                  </button>
                </div>
              </div>
            ) : (
              <div className="collection-row">
                <button
                  type="button"
                  className="collection"
                  aria-pressed={selectedId === c.id}
                  onClick={() => onSelect(c.id)}
                >
                  <span className="collection-name">{c.name}</span>
                  <span className="count">{t("imageCount", { n: c.image_count })}</span>
                </button>
                {c.writable && (
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={t("deleteCollection", { name: c.name })}
                    title={t("deleteCollection", { name: c.name })}
                    onClick={() => setConfirming(c.id)}
                  >
                    <svg viewBox="0 0 24 24" aria-hidden="true">
                      <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" />
                    </svg>
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      {loading && items.length === 0 && <p className="muted">{t("loadingCollections")}</p>}
      {!loading && !error && items.length === 0 && <p className="muted">{t("noCollections")}</p>}
      {shown && (
        <p className="error-text" role="alert">
          {errorText(shown.code)}
        </p>
      )}
      {!canCreate && <p className="muted">{t("readOnlyKey")}</p>}
      {canCreate && (
        <form className="create" onSubmit={create}>
          <input
            aria-label={t("newCollection")}
            placeholder={t("newCollection")}
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="button" disabled={busy || !name.trim()}>
            {t("create")}
          </button>
        </form>
      )}
    </section>
  );
}
