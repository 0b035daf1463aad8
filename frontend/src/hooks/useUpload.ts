// Upload in batches with byte progress, then follow each indexing job until it ends.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { ApiError } from "../api/errors";
import type { Job, RejectedFile } from "../api/types";
import { uploadImages } from "../api/upload";
import { batches } from "../upload/files";
import { asApiError } from "./useCollections";

export interface Problem {
  filename: string;
  code: string;
  message: string;
}

export interface UploadState {
  phase: "idle" | "uploading" | "indexing" | "done" | "error";
  sentBytes: number;
  totalBytes: number;
  accepted: number;
  duplicates: number;
  rejected: Problem[];
  indexTotal: number;
  indexDone: number; // indexed or failed: the progress bar's count
  indexed: number;
  indexErrors: Problem[];
  error: ApiError | null;
}

const IDLE: UploadState = {
  phase: "idle",
  sentBytes: 0,
  totalBytes: 0,
  accepted: 0,
  duplicates: 0,
  rejected: [],
  indexTotal: 0,
  indexDone: 0,
  indexed: 0,
  indexErrors: [],
  error: null,
};

const finished = (job: Job) => job.status === "done" || job.status === "failed";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rejection(r: RejectedFile): Problem {
  return { filename: r.filename, code: r.error.code, message: r.error.message };
}

/**
 * A batch the gateway refused as a whole: a 413 (too large for one request) lists every file,
 * a 422 `no_valid_images` lists each file's reason. Any other failure stops the upload.
 */
function batchProblems(error: ApiError, group: File[]): Problem[] {
  if (error.status === 413) {
    return group.map((f) => ({ filename: f.name, code: error.code, message: error.message }));
  }
  if (error.code === "no_valid_images" && Array.isArray(error.details)) {
    return (error.details as RejectedFile[]).map(rejection);
  }
  throw error;
}

export function useUpload(onIndexed: () => void, pollMs = 600) {
  const [state, setState] = useState<UploadState>(IDLE);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  const update = useCallback((patch: (s: UploadState) => Partial<UploadState>) => {
    if (alive.current) setState((s) => ({ ...s, ...patch(s) }));
  }, []);

  const follow = useCallback(
    async (jobIds: string[], names: Map<string, string>): Promise<Job[]> => {
      const jobs = new Map<string, Job>();
      while (alive.current && (jobs.size < jobIds.length || ![...jobs.values()].every(finished))) {
        for (const id of jobIds) {
          const known = jobs.get(id);
          if (!known || !finished(known)) jobs.set(id, await api.getJob(id));
        }
        const all = [...jobs.values()];
        update(() => ({
          indexTotal: all.reduce((n, j) => n + j.total, 0),
          indexDone: all.reduce((n, j) => n + j.done + j.failed, 0),
          indexed: all.reduce((n, j) => n + j.done, 0),
          indexErrors: all.flatMap((j) =>
            j.errors.map((e) => ({
              filename: names.get(e.item) ?? e.item,
              code: e.code,
              message: e.message,
            })),
          ),
        }));
        if (!all.every(finished)) await sleep(pollMs);
      }
      return [...jobs.values()];
    },
    [pollMs, update],
  );

  const start = useCallback(
    async (collectionId: string, files: File[]) => {
      const groups = batches(files);
      const totalBytes = files.reduce((n, f) => n + f.size, 0);
      setState({ ...IDLE, phase: "uploading", totalBytes });
      const jobIds: string[] = [];
      const names = new Map<string, string>();
      let sentBefore = 0;
      try {
        for (const group of groups) {
          const groupBytes = group.reduce((n, f) => n + f.size, 0);
          const handle = uploadImages(collectionId, group, (loaded, total) =>
            update(() => ({ sentBytes: sentBefore + (groupBytes * loaded) / Math.max(total, 1) })),
          );
          try {
            const result = await handle.promise;
            if (result.job_id) jobIds.push(result.job_id);
            for (const item of [...result.accepted, ...result.duplicates])
              names.set(item.image_id, item.filename);
            update((s) => ({
              accepted: s.accepted + result.accepted.length,
              duplicates: s.duplicates + result.duplicates.length,
              rejected: [...s.rejected, ...result.rejected.map(rejection)],
            }));
          } catch (err) {
            const problems = batchProblems(asApiError(err), group);
            update((s) => ({ rejected: [...s.rejected, ...problems] }));
          }
          sentBefore += groupBytes;
          update(() => ({ sentBytes: sentBefore }));
        }
        update(() => ({ phase: "indexing", indexTotal: names.size }));
        const jobs = await follow(jobIds, names);
        if (jobs.some((j) => j.status === "failed")) throw new ApiError(0, "index_failed", "indexing failed");
        update(() => ({ phase: "done" }));
      } catch (err) {
        update(() => ({ phase: "error", error: asApiError(err) }));
      } finally {
        if (alive.current) onIndexed();
      }
    },
    [follow, onIndexed, update],
  );

  return { state, start, reset: useCallback(() => setState(IDLE), []) };
}
