// Uploads go through XMLHttpRequest: fetch cannot report upload progress.
import { authHeaders, reportUnauthorized } from "./auth";
import { API_BASE } from "./client";
import { errorFrom, networkError } from "./errors";
import type { UploadResult } from "./types";

export interface UploadHandle {
  promise: Promise<UploadResult>;
  abort: () => void;
}

/** POST files to a collection; `onProgress(loaded, total)` follows the request body's bytes. */
export function uploadImages(
  collectionId: string,
  files: File[],
  onProgress: (loaded: number, total: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const promise = new Promise<UploadResult>((resolve, reject) => {
    xhr.open("POST", `${API_BASE}/collections/${encodeURIComponent(collectionId)}/images`);
    xhr.responseType = "text";
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as UploadResult);
        return;
      }
      if (xhr.status === 401) reportUnauthorized();
      reject(errorFrom(xhr.status, body));
    };
    xhr.onerror = () => reject(networkError());
    xhr.onabort = () => reject(new DOMException("Upload aborted", "AbortError"));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
