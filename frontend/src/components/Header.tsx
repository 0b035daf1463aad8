import type { Identity } from "../api/types";
import { useI18n } from "../i18n/I18n";

const ROLE_LABEL = { read: "roleRead", write: "roleWrite", admin: "roleAdmin" } as const;
const ROLE_HINT = { read: "roleReadHint", write: "roleWriteHint", admin: "roleAdminHint" } as const;

export function Header({ onApiKey, identity }: { onApiKey: () => void; identity: Identity | null }) {
  const { t, lang, setLang } = useI18n();
  return (
    <header className="header">
      <a className="brand" href="/" aria-label="Tìm Ảnh">
        <svg viewBox="0 0 32 32" aria-hidden="true" className="brand-mark">
          <rect width="32" height="32" rx="8" />
          <circle cx="14" cy="14" r="7" />
          <path d="M19 19l6 6" />
        </svg>
        <span className="brand-name">Tìm Ảnh</span>
        <span className="brand-tagline">{t("tagline")}</span>
      </a>
      <nav className="header-actions">
        {identity?.auth_required && (
          <span className="role-badge" data-role={identity.role} title={t(ROLE_HINT[identity.role])}>
            {t(ROLE_LABEL[identity.role])}
          </span>
        )}
        <button type="button" className="link-button" onClick={onApiKey}>
          {t("apiKeyButton")}
        </button>
        <button
          type="button"
          className="lang-button"
          lang={lang === "vi" ? "en" : "vi"}
          title={t("language")}
          onClick={() => setLang(lang === "vi" ? "en" : "vi")}
        >
          {t("switchLanguage")}
        </button>
      </nav>
    </header>
  );
}
