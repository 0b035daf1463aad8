import { describe, expect, it } from "vitest";
import { en, enErrors } from "./en";
import { describeError, format } from "./I18n";
import { vi, viErrors } from "./vi";

describe("i18n", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(format("{n} ảnh · {ms} ms", { n: 3, ms: 12 })).toBe("3 ảnh · 12 ms");
    expect(format("{missing}", {})).toBe("{missing}");
  });

  it("maps every upload error code to plain words in both languages", () => {
    const codes = [
      "empty_file",
      "unsupported_format",
      "too_many_pixels",
      "corrupt_image",
      "unsafe_path",
      "corrupt_archive",
      "too_many_files",
    ];
    for (const code of codes) {
      expect(describeError("vi", code)).toBe(viErrors[code]);
      expect(describeError("en", code)).toBe(enErrors[code]);
    }
  });

  it("groups *_unavailable codes and falls back to the code itself", () => {
    expect(describeError("vi", "encoder_unavailable")).toBe(viErrors.unavailable);
    expect(describeError("en", "weird_thing")).toBe("Something went wrong (weird_thing).");
  });

  it("has the same keys in both languages", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    expect(Object.keys(enErrors).sort()).toEqual(Object.keys(viErrors).sort());
  });
});
