// Names for the gateway's body models; every type comes from the generated schema.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
export type Collection = Schemas["Collection"];
export type CollectionList = Schemas["CollectionList"];
export type UploadResult = Schemas["UploadResult"];
export type RejectedFile = Schemas["RejectedFile"];
export type Job = Schemas["Job"];
export type Image = Schemas["Image"];
export type ImagePage = Schemas["ImagePage"];
export type ImageUpdate = Schemas["ImageUpdate"];
export type Album = Schemas["Album"];
export type AlbumList = Schemas["AlbumList"];
export type AlbumImagesAdded = Schemas["AlbumImagesAdded"];
export type TagList = Schemas["TagList"];
export type CameraCount = Schemas["CameraCount"];
export type CameraList = Schemas["CameraList"];
export type SearchQuery = Schemas["SearchQuery"];
export type SearchResult = Schemas["SearchResult"];
export type SearchResponse = Schemas["SearchResponse"];
export type TextMatch = Schemas["TextMatch"];
export type RefineQuery = Schemas["RefineQuery"];
export type ErrorBody = Schemas["ErrorBody"];
export type Identity = Schemas["Identity"];
export type Role = Identity["role"];

/** `hybrid`: the picture and the words fused; `dense`: the picture only; `keyword`: the words only. */
export type SearchMode = SearchQuery["mode"];
export type MatchedBy = NonNullable<SearchResult["matched"]>[number];

type ByImageId =
  operations["search_by_image_api_v1_search_image_post"]["requestBody"]["content"]["application/json"];
/** A box over a picture as displayed (EXIF orientation applied), in fractions of its size. */
export type Region = NonNullable<ByImageId["region"]>;

/** A minimum score: a cosine, `auto` (the model's strong-match threshold) or none. */
export type MinScore = number | "auto" | null;

export type ImageFilter = Schemas["ImageFilter"];
/** `relevance`: best match first; `taken_at`: a page of matches newest first by date taken. */
export type SearchOrder = SearchQuery["order"];

/** Paging, scope, filters and order shared by every kind of search. */
export interface SearchPage {
  collection_id?: string | null;
  top_k: number;
  offset: number;
  min_score?: MinScore;
  filters?: ImageFilter;
  order?: SearchOrder;
}
