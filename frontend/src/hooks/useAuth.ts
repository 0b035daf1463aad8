// A 401 from any call opens the API-key dialog; saving a key bumps `version`, so views refetch.
import { useCallback, useEffect, useState } from "react";
import { onUnauthorized, setApiKey } from "../api/auth";

export interface Auth {
  version: number;
  needKey: boolean;
  askKey: () => void;
  saveKey: (key: string) => void;
  dismiss: () => void;
}

export function useAuth(): Auth {
  const [version, setVersion] = useState(0);
  const [needKey, setNeedKey] = useState(false);
  useEffect(() => onUnauthorized(() => setNeedKey(true)), []);
  const saveKey = useCallback((key: string) => {
    setApiKey(key);
    setNeedKey(false);
    setVersion((v) => v + 1);
  }, []);
  const askKey = useCallback(() => setNeedKey(true), []);
  const dismiss = useCallback(() => setNeedKey(false), []);
  return { version, needKey, askKey, saveKey, dismiss };
}
