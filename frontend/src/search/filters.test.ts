import { describe, expect, it } from "vitest";
import { NO_FILTERS } from "../hooks/useUrlState";
import { hasFilters, nextDay, searchFilters } from "./filters";

describe("search filters", () => {
  it("adds nothing to the body when nothing is chosen", () => {
    expect(searchFilters(NO_FILTERS)).toEqual({});
    expect(hasFilters(NO_FILTERS)).toBe(false);
  });

  it("turns a day range into bounds that keep both days whole", () => {
    expect(searchFilters({ ...NO_FILTERS, from: "2023-07-01", to: "2023-07-31" })).toEqual({
      filters: { taken_after: "2023-07-01T00:00:00", taken_before: "2023-08-01T00:00:00" },
    });
    expect(searchFilters({ ...NO_FILTERS, to: "2023-12-31" }).filters).toEqual({
      taken_before: "2024-01-01T00:00:00",
    });
    expect(nextDay("2024-02-28")).toBe("2024-02-29");
    expect(nextDay("2023-02-28")).toBe("2023-03-01");
  });

  it("names the camera, album and tag as the API does, and the date order", () => {
    const state = { ...NO_FILTERS, camera: "EOS R6", album: "a1", tag: "tết", sort: "taken_at" as const };
    expect(searchFilters(state)).toEqual({
      filters: { camera: "EOS R6", album_id: "a1", tag: "tết" },
      order: "taken_at",
    });
    expect(hasFilters({ ...NO_FILTERS, sort: "taken_at" })).toBe(true);
  });
});
