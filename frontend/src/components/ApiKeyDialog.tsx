import { useEffect, useRef, useState, type FormEvent } from "react";
import { getApiKey } from "../api/auth";
import { useI18n } from "../i18n/I18n";

interface Props {
  onSave: (key: string) => void;
  onClose: () => void;
}

export function ApiKeyDialog({ onSave, onClose }: Props) {
  const { t } = useI18n();
  const [key, setKey] = useState(() => getApiKey() ?? "");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) onSave(key.trim());
  };
  return (
    <div className="overlay" onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form
        className="dialog narrow"
        role="dialog"
        aria-modal="true"
        aria-labelledby="apikey-title"
        onSubmit={submit}
      >
        <h2 id="apikey-title">{t("apiKeyTitle")}</h2>
        <p className="muted">{t("apiKeyBody")}</p>
        <label className="field">
          <span>{t("apiKeyLabel")}</span>
          <input
            ref={input}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <div className="dialog-actions">
          <button type="button" className="button ghost" onClick={onClose}>
            {t("cancel")}
          </button>
          <button type="submit" className="button primary" disabled={!key.trim()}>
            {t("save")}
          </button>
        </div>
      </form>
    </div>
  );
}
