// What the API key may do (`GET /me`), refetched when a key is saved; null until known.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Identity } from "../api/types";

export function useIdentity(authVersion: number): Identity | null {
  const [identity, setIdentity] = useState<Identity | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    api
      .me(controller.signal)
      .then(setIdentity)
      .catch(() => {
        if (!controller.signal.aborted) setIdentity(null); // a 401 opens the key dialog
      });
    return () => controller.abort();
  }, [authVersion]);
  return identity;
}

/** Whether the key may do `permission`; while unknown the UI offers everything and the server decides. */
export function may(identity: Identity | null, permission: Identity["permissions"][number]): boolean {
  return identity === null || identity.permissions.includes(permission);
}
