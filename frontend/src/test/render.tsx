import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement, ReactNode } from "react";
import { I18nProvider, type Lang } from "../i18n/I18n";

/** Render inside the i18n provider (Vietnamese unless asked), with a user-event session. */
export function renderUi(ui: ReactElement, lang?: Lang) {
  const user = userEvent.setup({ applyAccept: false }); // `accept` is only a hint to a browser's picker
  const wrapper = ({ children }: { children: ReactNode }) => (
    <I18nProvider lang={lang}>{children}</I18nProvider>
  );
  return { user, ...render(ui, { wrapper }) };
}
