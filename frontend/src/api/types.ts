// Names for the gateway's body models; every type comes from the generated schema.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Collection = Schemas["Collection"];
export type CollectionList = Schemas["CollectionList"];
export type UploadResult = Schemas["UploadResult"];
export type RejectedFile = Schemas["RejectedFile"];
export type Job = Schemas["Job"];
export type Image = Schemas["Image"];
export type SearchQuery = Schemas["SearchQuery"];
export type SearchResult = Schemas["SearchResult"];
export type SearchResponse = Schemas["SearchResponse"];
export type ErrorBody = Schemas["ErrorBody"];
export type Identity = Schemas["Identity"];
export type Role = Identity["role"];

/** A minimum score: a cosine, `auto` (the model's strong-match threshold) or none. */
export type MinScore = number | "auto" | null;

/** Paging and scope shared by the three kinds of search. */
export interface SearchPage {
  collection_id?: string | null;
  top_k: number;
  offset: number;
  min_score?: MinScore;
}
