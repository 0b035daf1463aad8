import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { NO_FILTERS } from "../hooks/useUrlState";
import { renderUi } from "../test/render";
import { FilterBar } from "./FilterBar";

const album = {
  id: "a1",
  collection_id: "c1",
  name: "Tết ở Huế",
  created_at: "2024-02-10T00:00:00Z",
  image_count: 4,
};

function setup(overrides: Partial<Parameters<typeof FilterBar>[0]> = {}) {
  const props = {
    state: NO_FILTERS,
    collectionId: "c1",
    cameras: [
      { make: "Canon", model: "EOS R6", count: 12 },
      { make: "Apple", model: null, count: 2 },
    ],
    albums: [album],
    tags: ["biển", "tết"],
    onChange: vi.fn(),
    onClear: vi.fn(),
    ...overrides,
  };
  return { props, ...renderUi(<FilterBar {...props} />) };
}

describe("FilterBar", () => {
  it("offers the folder's cameras, albums and tags, and reports each choice", async () => {
    const { user, props } = setup();
    const camera = screen.getByRole("combobox", { name: "Máy ảnh" });
    expect([...camera.querySelectorAll("option")].map((o) => o.textContent)).toEqual([
      "Mọi máy ảnh",
      "Canon EOS R6 (12)",
    ]);
    await user.selectOptions(camera, "EOS R6");
    expect(props.onChange).toHaveBeenLastCalledWith({ camera: "EOS R6" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Album" }), "Tết ở Huế (4)");
    expect(props.onChange).toHaveBeenLastCalledWith({ album: "a1" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Nhãn" }), "tết");
    expect(props.onChange).toHaveBeenLastCalledWith({ tag: "tết" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Sắp xếp" }), "Mới nhất theo ngày chụp");
    expect(props.onChange).toHaveBeenLastCalledWith({ sort: "taken_at" });
  });

  it("takes a date range", async () => {
    const { user, props } = setup();
    await user.type(screen.getByLabelText("Từ ngày"), "2023-07-01");
    expect(props.onChange).toHaveBeenLastCalledWith({ from: "2023-07-01" });
    await user.type(screen.getByLabelText("Đến ngày"), "2023-07-31");
    expect(props.onChange).toHaveBeenLastCalledWith({ to: "2023-07-31" });
  });

  it("clears every filter in one click, offered only when one is set", async () => {
    const { user, props, rerender } = setup();
    expect(screen.queryByRole("button", { name: "Xoá bộ lọc" })).toBeNull();
    rerender(<FilterBar {...props} state={{ ...NO_FILTERS, from: "2023-07-01", tag: "tết" }} />);
    await user.click(screen.getByRole("button", { name: "Xoá bộ lọc" }));
    expect(props.onClear).toHaveBeenCalledOnce();
  });

  it("keeps folder filters to a chosen folder", () => {
    setup({ collectionId: null });
    expect(screen.getByLabelText("Từ ngày")).toBeInTheDocument();
    expect(screen.queryByRole("combobox", { name: "Album" })).toBeNull();
    expect(screen.getByText(/Chọn một thư mục để lọc/)).toBeInTheDocument();
  });
});
