import { useI18n } from "../i18n/I18n";

export function Header({ onApiKey }: { onApiKey: () => void }) {
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
