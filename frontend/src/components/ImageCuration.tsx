import { useEffect, useState, type FormEvent } from "react";
import type { ApiError } from "../api/errors";
import { api } from "../api/client";
import type { Image } from "../api/types";
import { useAlbums } from "../hooks/useCatalog";
import { asApiError } from "../hooks/useCollections";
import { useI18n } from "../i18n/I18n";
import { RemoveIcon } from "./RemoveIcon";

interface Props {
  image: Image;
  canEdit: boolean;
  setImage: (image: Image) => void;
  reload: () => Promise<void>;
  /** Albums or tags changed: lists shown elsewhere (the filters) read them again. */
  onEdited: () => void;
}

/** An image's albums, tags and note, edited in place; removals show at once and return on failure. */
export function ImageCuration({ image, canEdit, setImage, reload, onEdited }: Props) {
  const { t, errorText } = useI18n();
  const [albumsVersion, setAlbumsVersion] = useState(0);
  const albums = useAlbums(image.collection_id, albumsVersion).data ?? [];
  const [chosen, setChosen] = useState("");
  const [newAlbum, setNewAlbum] = useState("");
  const [newTag, setNewTag] = useState("");
  const [note, setNote] = useState(image.note ?? "");
  const [noteSaved, setNoteSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const inAlbums = new Set((image.albums ?? []).map((a) => a.id));
  const addable = albums.filter((a) => !inAlbums.has(a.id));
  const tags = image.tags ?? [];

  useEffect(() => setNote(image.note ?? ""), [image.image_id, image.note]);

  const run = async (action: () => Promise<void>, undo?: Image) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onEdited();
    } catch (err) {
      if (undo) setImage(undo);
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const addTo = async (albumId: string) => {
    await api.addToAlbum(image.collection_id, albumId, [image.image_id]);
    setAlbumsVersion((v) => v + 1);
    await reload();
  };
  const addToChosen = () =>
    chosen &&
    run(async () => {
      await addTo(chosen);
      setChosen("");
    });
  const createAlbum = (event: FormEvent) => {
    event.preventDefault();
    const name = newAlbum.trim();
    if (!name) return;
    void run(async () => {
      const album = await api.createAlbum(image.collection_id, name);
      await addTo(album.id);
      setNewAlbum("");
    });
  };
  const removeFrom = (albumId: string) => {
    const before = image;
    setImage({ ...image, albums: (image.albums ?? []).filter((a) => a.id !== albumId) });
    void run(async () => {
      await api.removeFromAlbum(image.collection_id, albumId, image.image_id);
      setAlbumsVersion((v) => v + 1);
    }, before);
  };
  const addTag = (event: FormEvent) => {
    event.preventDefault();
    const tag = newTag.trim();
    if (!tag) return;
    void run(async () => {
      setImage(await api.updateImage(image.image_id, { add_tags: [tag] }));
      setNewTag("");
    });
  };
  const removeTag = (tag: string) => {
    const before = image;
    setImage({ ...image, tags: tags.filter((x) => x !== tag) });
    void run(async () => setImage(await api.updateImage(image.image_id, { remove_tags: [tag] })), before);
  };
  const saveNote = (event: FormEvent) => {
    event.preventDefault();
    setNoteSaved(false);
    void run(async () => {
      setImage(await api.updateImage(image.image_id, { note: note.trim() || null }));
      setNoteSaved(true);
    });
  };

  return (
    <div className="curation">
      <section className="curation-part" aria-labelledby="detail-albums">
        <h3 id="detail-albums">{t("albums")}</h3>
        {(image.albums ?? []).length === 0 ? (
          <p className="muted">{t("noAlbums")}</p>
        ) : (
          <ul className="chips">
            {(image.albums ?? []).map((a) => (
              <li key={a.id} className="chip">
                <span>{a.name}</span>
                {canEdit && (
                  <button
                    type="button"
                    className="chip-remove"
                    aria-label={t("removeFromAlbum", { name: a.name })}
                    title={t("removeFromAlbum", { name: a.name })}
                    disabled={busy}
                    onClick={() => removeFrom(a.id)}
                  >
                    <RemoveIcon />
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {canEdit && (
          <>
            {addable.length > 0 && (
              <div className="inline-form">
                <select
                  aria-label={t("addToAlbum")}
                  value={chosen}
                  onChange={(e) => setChosen(e.target.value)}
                >
                  <option value="">{t("chooseAlbum")}</option>
                  {addable.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="button small"
                  disabled={busy || !chosen}
                  onClick={() => void addToChosen()}
                >
                  {t("add")}
                </button>
              </div>
            )}
            <form className="inline-form" onSubmit={createAlbum}>
              <input
                aria-label={t("newAlbum")}
                placeholder={t("newAlbum")}
                value={newAlbum}
                maxLength={200}
                onChange={(e) => setNewAlbum(e.target.value)}
              />
              <button type="submit" className="button small" disabled={busy || !newAlbum.trim()}>
                {t("createAlbum")}
              </button>
            </form>
          </>
        )}
      </section>

      <section className="curation-part" aria-labelledby="detail-tags">
        <h3 id="detail-tags">{t("tags")}</h3>
        {tags.length === 0 ? (
          <p className="muted">{t("noTags")}</p>
        ) : (
          <ul className="chips">
            {tags.map((tag) => (
              <li key={tag} className="chip">
                <span>{tag}</span>
                {canEdit && (
                  <button
                    type="button"
                    className="chip-remove"
                    aria-label={t("removeTag", { name: tag })}
                    title={t("removeTag", { name: tag })}
                    disabled={busy}
                    onClick={() => removeTag(tag)}
                  >
                    <RemoveIcon />
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {canEdit && (
          <form className="inline-form" onSubmit={addTag}>
            <input
              aria-label={t("newTag")}
              placeholder={t("newTag")}
              value={newTag}
              maxLength={100}
              onChange={(e) => setNewTag(e.target.value)}
            />
            <button type="submit" className="button small" disabled={busy || !newTag.trim()}>
              {t("add")}
            </button>
          </form>
        )}
      </section>

      <section className="curation-part" aria-labelledby="detail-note">
        <h3 id="detail-note">{t("note")}</h3>
        {canEdit ? (
          <form className="note-form" onSubmit={saveNote}>
            <textarea
              aria-labelledby="detail-note"
              placeholder={t("notePlaceholder")}
              value={note}
              maxLength={10_000}
              rows={3}
              onChange={(e) => {
                setNote(e.target.value);
                setNoteSaved(false);
              }}
            />
            <div className="note-actions">
              <button
                type="submit"
                className="button small"
                disabled={busy || note.trim() === (image.note ?? "").trim()}
              >
                {t("saveNote")}
              </button>
              {noteSaved && (
                <span className="muted" role="status">
                  {t("noteSaved")}
                </span>
              )}
            </div>
          </form>
        ) : (
          <p className={image.note ? "note-text" : "muted"}>{image.note || t("noNote")}</p>
        )}
        {!canEdit && <p className="muted hint">{t("readOnlyImage")}</p>}
      </section>

      {error && (
        <p className="error-text" role="alert">
          {errorText(error.code)}
        </p>
      )}
    </div>
  );
}
