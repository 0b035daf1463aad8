import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { en, enErrors } from "./en";
import { vi, viErrors, type Messages } from "./vi";

export type Lang = "vi" | "en";
export type MessageKey = keyof Messages;
type Vars = Record<string, string | number>;

const LANG_KEY = "timanh.lang";
const bundles = { vi: [vi, viErrors], en: [en, enErrors] } as const;

export function format(template: string, vars: Vars = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Plain words for an API error code; `*_unavailable` codes share one message. */
export function describeError(lang: Lang, code: string): string {
  const errors = bundles[lang][1];
  const known = errors[code] ?? (code.endsWith("_unavailable") ? errors.unavailable : undefined);
  return known ?? format(errors.unknown ?? code, { code });
}

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, vars?: Vars) => string;
  errorText: (code: string) => string;
  number: (value: number, digits?: number) => string;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => fixed ?? initialLang());
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(LANG_KEY, next);
    } catch {
      // the choice then lasts for this page only
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo<I18n>(() => {
    const messages = bundles[lang][0];
    const locale = lang === "vi" ? "vi-VN" : "en-US";
    return {
      lang,
      setLang,
      t: (key, vars) => format(messages[key], vars),
      errorText: (code) => describeError(lang, code),
      number: (value, digits = 0) =>
        value.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }),
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
