// How catalog metadata reads to a person: the date taken in the camera's own time, months, sizes.
import type { Lang } from "../i18n/I18n";

const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/i;
const LOCALE: Record<Lang, string> = { vi: "vi-VN", en: "en-US" };

/**
 * The camera's wall clock as a Date whose UTC fields are that clock. The API gives `taken_at` in UTC
 * when `taken_tz_offset_min` is set (the file stated its zone), else the camera's local time, which
 * has no zone; either may come with or without a trailing offset.
 */
export function wallClock(takenAt: string, offsetMin: number | null | undefined): Date | null {
  const instant = Date.parse(ZONED.test(takenAt) ? takenAt : `${takenAt}Z`);
  if (Number.isNaN(instant)) return null;
  return new Date(instant + (offsetMin ?? 0) * 60_000);
}

/** `UTC+07:00`, `UTC−03:30`. */
export function formatOffset(offsetMin: number): string {
  const sign = offsetMin < 0 ? "−" : "+";
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `UTC${sign}${hh}:${mm}`;
}

/** `10:05, 14 tháng 7, 2023 (UTC+07:00)`; the zone only when the file states it. */
export function formatTakenAt(lang: Lang, takenAt: string, offsetMin: number | null | undefined): string {
  const clock = wallClock(takenAt, offsetMin);
  if (!clock) return takenAt;
  const locale = LOCALE[lang];
  const date = clock.toLocaleDateString(locale, {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
  const time = clock.toLocaleTimeString(locale, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: "UTC",
  });
  const zone = offsetMin != null ? ` (${formatOffset(offsetMin)})` : "";
  return `${time}, ${date}${zone}`;
}

/** `Tháng 7 năm 2023`, `July 2023`. */
export function monthLabel(lang: Lang, year: number, month: number): string {
  const text = new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(LOCALE[lang], {
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
  return text.charAt(0).toLocaleUpperCase(LOCALE[lang]) + text.slice(1);
}

export interface Dated {
  taken_at?: string | null;
  taken_tz_offset_min?: number | null;
}

export interface MonthGroup<T> {
  key: string; // `2023-07`, or `undated`
  year: number | null;
  month: number | null;
  items: T[];
}

/** Consecutive images of one month (by the camera's clock) under one header, in the order given. */
export function groupByMonth<T extends Dated>(items: T[]): MonthGroup<T>[] {
  const groups: MonthGroup<T>[] = [];
  for (const item of items) {
    const clock = item.taken_at ? wallClock(item.taken_at, item.taken_tz_offset_min) : null;
    const year = clock ? clock.getUTCFullYear() : null;
    const month = clock ? clock.getUTCMonth() + 1 : null;
    const key = clock ? `${year}-${String(month).padStart(2, "0")}` : "undated";
    const last = groups.at(-1);
    if (last?.key === key) last.items.push(item);
    else groups.push({ key, year, month, items: [item] });
  }
  return groups;
}

/** `1,2 MB`, `850 KB`, `512 B`. */
export function formatBytes(lang: Lang, bytes: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const text = value.toLocaleString(LOCALE[lang], { maximumFractionDigits: digits });
  return `${text} ${units[unit]}`;
}

/** `Canon EOS R6`; a model that already names its maker (`NIKON D750`) is shown alone. */
export function cameraLabel(
  make: string | null | undefined,
  model: string | null | undefined,
): string | null {
  if (make && model) {
    return model.toLowerCase().startsWith(make.toLowerCase()) ? model : `${make} ${model}`;
  }
  return model || make || null;
}

/** Decimal degrees (south and west negative) with a point, as maps and GPS tools write them. */
export function formatCoordinates(latitude: number, longitude: number): string {
  return `${latitude.toFixed(5)}, ${longitude.toFixed(5)}`;
}

export function openStreetMapUrl(latitude: number, longitude: number): string {
  return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=15/${latitude}/${longitude}`;
}
