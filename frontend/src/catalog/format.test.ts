import { describe, expect, it } from "vitest";
import {
  cameraLabel,
  formatBytes,
  formatCoordinates,
  formatOffset,
  formatTakenAt,
  groupByMonth,
  monthLabel,
  openStreetMapUrl,
  wallClock,
} from "./format";

describe("catalog formatting", () => {
  it("shows the date taken on the camera's clock, with its zone when the file states one", () => {
    // In UTC with the offset: 03:05 UTC is 10:05 in Hà Nội, written with or without the `Z`.
    expect(formatTakenAt("vi", "2023-07-14T03:05:00", 420)).toBe("10:05, 14 tháng 7, 2023 (UTC+07:00)");
    expect(formatTakenAt("vi", "2023-07-14T03:05:00Z", 420)).toBe("10:05, 14 tháng 7, 2023 (UTC+07:00)");
    expect(formatTakenAt("en", "2023-07-14T03:05:00Z", 420)).toBe("10:05, July 14, 2023 (UTC+07:00)");
    // West of Greenwich, with a half hour.
    expect(formatTakenAt("vi", "2023-01-01T02:00:00Z", -210)).toBe("22:30, 31 tháng 12, 2022 (UTC−03:30)");
    // No zone in the file: the camera's wall clock as written, no zone claimed.
    expect(formatTakenAt("vi", "2023-07-14T10:05:00", null)).toBe("10:05, 14 tháng 7, 2023");
    expect(formatTakenAt("vi", "not a date", null)).toBe("not a date");
  });

  it("formats offsets", () => {
    expect(formatOffset(0)).toBe("UTC+00:00");
    expect(formatOffset(330)).toBe("UTC+05:30");
    expect(formatOffset(-480)).toBe("UTC−08:00");
    expect(wallClock("2023-07-31T20:00:00+00:00", 420)?.toISOString()).toBe("2023-08-01T03:00:00.000Z");
  });

  it("names months in Vietnamese and English", () => {
    expect(monthLabel("vi", 2023, 7)).toBe("Tháng 7 năm 2023");
    expect(monthLabel("vi", 2024, 12)).toBe("Tháng 12 năm 2024");
    expect(monthLabel("en", 2023, 7)).toBe("July 2023");
  });

  it("groups consecutive images by the month on the camera's clock, undated last", () => {
    const items = [
      { id: "a", taken_at: "2023-08-02T09:00:00" },
      // 20:00 UTC on 31 July is already 1 August in Hà Nội.
      { id: "b", taken_at: "2023-07-31T20:00:00", taken_tz_offset_min: 420 },
      { id: "c", taken_at: "2023-07-15T08:00:00Z", taken_tz_offset_min: 420 },
      { id: "d", taken_at: "2023-07-01T00:00:00" },
      { id: "e", taken_at: null },
      { id: "f" },
    ];
    const groups = groupByMonth(items);
    expect(groups.map((g) => [g.key, g.items.map((i) => i.id)])).toEqual([
      ["2023-08", ["a", "b"]],
      ["2023-07", ["c", "d"]],
      ["undated", ["e", "f"]],
    ]);
    expect(groups[0]).toMatchObject({ year: 2023, month: 8 });
    expect(groups[2]).toMatchObject({ year: null, month: null });
    expect(groupByMonth([])).toEqual([]);
  });

  it("formats sizes, cameras, coordinates and the map link", () => {
    expect(formatBytes("vi", 512)).toBe("512 B");
    expect(formatBytes("vi", 1536)).toBe("1,5 KB");
    expect(formatBytes("en", 5 * 1024 * 1024 + 300_000)).toBe("5.3 MB");
    expect(formatBytes("vi", 250 * 1024)).toBe("250 KB");
    expect(cameraLabel("Canon", "EOS R6")).toBe("Canon EOS R6");
    expect(cameraLabel("NIKON CORPORATION", "NIKON D750")).toBe("NIKON CORPORATION NIKON D750");
    expect(cameraLabel("NIKON", "NIKON D750")).toBe("NIKON D750");
    expect(cameraLabel(null, "iPhone 13")).toBe("iPhone 13");
    expect(cameraLabel("Apple", null)).toBe("Apple");
    expect(cameraLabel(null, undefined)).toBeNull();
    expect(formatCoordinates(10.7769, -106.7009)).toBe("10.77690, -106.70090");
    expect(openStreetMapUrl(10.7769, 106.7009)).toBe(
      "https://www.openstreetmap.org/?mlat=10.7769&mlon=106.7009#map=15/10.7769/106.7009",
    );
  });
});
