import { useCallback, useEffect, useMemo, useState } from "react";
import type { SearchResult } from "./api/types";
import { ApiKeyDialog } from "./components/ApiKeyDialog";
import { BrowseView } from "./components/BrowseView";
import { CollectionsPanel } from "./components/CollectionsPanel";
import { FilterBar } from "./components/FilterBar";
import { Header } from "./components/Header";
import { ImageDetail } from "./components/ImageDetail";
import { ResultsGrid, type Direction } from "./components/ResultsGrid";
import { SearchBar } from "./components/SearchBar";
import { SearchChips, type Example } from "./components/SearchChips";
import { UploadPanel } from "./components/UploadPanel";
import { useAuth } from "./hooks/useAuth";
import { useBrowse } from "./hooks/useBrowse";
import { useAlbums, useCameras, useTags } from "./hooks/useCatalog";
import { useCollections } from "./hooks/useCollections";
import { may, useIdentity } from "./hooks/useIdentity";
import { useImage } from "./hooks/useImage";
import { useImageNames } from "./hooks/useImageNames";
import { useSearch } from "./hooks/useSearch";
import { useUpload } from "./hooks/useUpload";
import { MAX_EXAMPLES, NO_FILTERS, NO_SEARCH, useUrlState } from "./hooks/useUrlState";
import { useI18n } from "./i18n/I18n";
import { refinable, searchSource, type PickedFile } from "./search/source";

let fileToken = 0;

export function App() {
  const { t } = useI18n();
  const [url, navigate] = useUrlState();
  const auth = useAuth();
  const collections = useCollections(auth.version);
  const identity = useIdentity(auth.version);
  const [file, setFile] = useState<PickedFile | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [edits, setEdits] = useState(0); // albums, tags or notes changed in the detail view

  // A text or similar-image search in the URL replaces a search by an uploaded image.
  useEffect(() => {
    if (url.q || url.like) setFile(null);
  }, [url.q, url.like]);

  const { from, to, camera, album, tag, sort, more, less } = url;
  // `useSearch` keys a search by what it asks, so opening an image (`img`) starts none.
  const source = useMemo(() => searchSource(url, file), [url, file]);
  // A finished upload runs the current search again, so new images show up; so does an edit,
  // which may take an image into or out of an album or tag filtered on.
  const search = useSearch(source, `${auth.version}:${attempt}:${edits}`);
  // A folder with no search: its images by date.
  const browse = useBrowse(source === null ? url.c : null, `${auth.version}:${attempt}`);
  const lists = `${auth.version}:${attempt}:${edits}`;
  const albums = useAlbums(url.c, lists).data ?? [];
  const tags = useTags(url.c, lists).data ?? [];
  const cameras = useCameras(url.c, lists).data ?? [];
  const liked = useImage(url.like, auth.version).image;
  const names = useImageNames([...more, ...less], auth.version);

  const reloadCollections = collections.reload;
  const onIndexed = useCallback(() => {
    reloadCollections();
    setAttempt((a) => a + 1);
  }, [reloadCollections]);
  const upload = useUpload(onIndexed);
  const selected = collections.items.find((c) => c.id === url.c) ?? null;

  const onImage = useCallback(
    (image: File) => {
      fileToken += 1;
      setFile({ file: image, token: fileToken });
      navigate({ ...NO_SEARCH, img: null });
    },
    [navigate],
  );
  const closeDetail = useCallback(() => navigate({ img: null }), [navigate]);
  const onEdited = useCallback(() => setEdits((n) => n + 1), []);
  const openResult = (r: Pick<SearchResult, "image_id">) => navigate({ img: r.image_id });
  const canEdit = (collectionId: string) =>
    may(identity, "edit") && (collections.items.find((c) => c.id === collectionId)?.writable ?? true);
  const clearSearch = () => {
    setFile(null);
    navigate({ ...NO_SEARCH, img: null });
  };
  const openScore = search.results.find((r) => r.image_id === url.img)?.score ?? null;

  // A refinement adds the image to one list and takes it from the other; the oldest goes past the cap.
  const refine = (r: SearchResult, direction: Direction) => {
    names.remember(r.image_id, r.filename);
    const add = (list: string[]) =>
      [...list.filter((id) => id !== r.image_id), r.image_id].slice(-MAX_EXAMPLES);
    const drop = (list: string[]) => list.filter((id) => id !== r.image_id);
    navigate(
      direction === "more" ? { more: add(more), less: drop(less) } : { more: drop(more), less: add(less) },
    );
  };
  const unrefine = ({ imageId, direction }: Example) =>
    navigate({ [direction]: url[direction].filter((id) => id !== imageId) });
  const examples: Example[] = (["more", "less"] as const).flatMap((direction) =>
    url[direction].map((imageId) => ({ imageId, name: names.names[imageId] ?? imageId, direction })),
  );

  const likedName = liked ? `“${liked.filename}”` : "";
  const title = url.like
    ? t(url.region ? "similarToRegion" : "similarTo", { name: likedName }).trim()
    : source?.kind === "file"
      ? t("similarToFile", { name: source.file.name })
      : `“${url.q}”`;

  // While a dialog is open the page behind it is inert: Tab stays in the dialog.
  const dialogOpen = Boolean(url.img) || auth.needKey;
  return (
    <div className="app">
      <div className="page" inert={dialogOpen}>
        <Header onApiKey={auth.askKey} identity={identity} />
        <div className="layout">
          <aside className="sidebar">
            <CollectionsPanel
              items={collections.items}
              loading={collections.loading}
              error={collections.error}
              selectedId={url.c}
              onSelect={(id) => navigate({ c: id, img: null, camera: null, album: null, tag: null })}
              onCreate={collections.create}
              onDelete={collections.remove}
              canCreate={may(identity, "create")}
            />
            <UploadPanel
              collection={selected}
              state={upload.state}
              onFiles={(files) => selected && void upload.start(selected.id, files)}
            />
          </aside>
          <main className="main" id="main">
            <SearchBar
              query={url.q}
              mode={url.mode}
              minScore={url.min}
              onSearch={(q) => navigate({ ...NO_SEARCH, q, img: null })}
              onImage={onImage}
              onMode={(mode) => navigate({ mode }, { replace: true })}
              onMinScore={(min) => navigate({ min }, { replace: true })}
            />
            {source !== null && (
              <FilterBar
                state={{ from, to, camera, album, tag, sort }}
                collectionId={url.c}
                cameras={cameras}
                albums={albums}
                tags={tags}
                onChange={(patch) => navigate({ ...patch, img: null })}
                onClear={() => navigate({ ...NO_FILTERS, img: null })}
              />
            )}
            <div className="scope-row">
              <p className="scope muted">
                {selected ? t("scopeOne", { name: selected.name }) : t("scopeAll")}
              </p>
              {source !== null && selected && (
                <button type="button" className="link-button" onClick={clearSearch}>
                  {t("browse")}
                </button>
              )}
              {source !== null && !selected && (source.kind === "file" || url.like) && (
                <button type="button" className="link-button" onClick={clearSearch}>
                  {t("clearSearch")}
                </button>
              )}
            </div>
            {source === null ? (
              selected ? (
                <BrowseView browse={browse} onOpen={openResult} />
              ) : (
                <p className="welcome">{t("welcome")}</p>
              )
            ) : (
              <>
                <SearchChips
                  examples={examples}
                  excluded={search.response?.excluded ?? []}
                  onRemove={unrefine}
                />
                <ResultsGrid
                  title={title}
                  titleImage={url.like ? liked?.thumbnail_url : null}
                  search={search}
                  minScore={url.min}
                  onOpen={openResult}
                  onShowClosest={() => navigate({ min: null })}
                  explain={source.kind === "text"}
                  onRefine={refinable(source) ? refine : undefined}
                  onHybrid={
                    source.kind === "text" && url.mode === "keyword"
                      ? () => navigate({ mode: "hybrid" })
                      : undefined
                  }
                />
              </>
            )}
          </main>
        </div>
      </div>
      {url.img && (
        <ImageDetail
          imageId={url.img}
          score={openScore}
          canEdit={canEdit}
          onClose={closeDetail}
          onSimilar={(id) => navigate({ ...NO_SEARCH, like: id, img: null })}
          onRegion={(id, region) => navigate({ ...NO_SEARCH, like: id, region, img: null })}
          onEdited={onEdited}
        />
      )}
      {auth.needKey && <ApiKeyDialog onSave={auth.saveKey} onClose={auth.dismiss} />}
    </div>
  );
}
