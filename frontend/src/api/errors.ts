import type { ErrorBody } from "./types";

/** A failed API call: the HTTP status (0 when the server was not reached) and the error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as ErrorBody | null)?.error;
  return typeof error === "object" && error !== null && typeof error.code === "string";
}

/** The gateway's `{"error": {...}}` body as an ApiError, whatever the body turned out to be. */
export function errorFrom(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) {
    return new ApiError(status, body.error.code, body.error.message, body.error.details);
  }
  if (status === 413) return new ApiError(status, "payload_too_large", "Request body too large");
  return new ApiError(status, "http_error", `HTTP ${status}`);
}

export function networkError(): ApiError {
  return new ApiError(0, "network_error", "The server could not be reached");
}
