import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { collection } from "../test/fakeApi";
import { renderUi } from "../test/render";
import { CollectionsPanel } from "./CollectionsPanel";

function setup(overrides: Partial<Parameters<typeof CollectionsPanel>[0]> = {}) {
  const props = {
    items: [collection(), collection({ id: "c2", name: "Du lịch", image_count: 12 })],
    loading: false,
    error: null,
    selectedId: null,
    onSelect: vi.fn(),
    onCreate: vi.fn(async (name: string) => collection({ id: "new", name, image_count: 0 })),
    onDelete: vi.fn(async () => {}),
    canCreate: true,
    ...overrides,
  };
  return { props, ...renderUi(<CollectionsPanel {...props} />) };
}

describe("CollectionsPanel", () => {
  it("lists folders with their image counts and marks the selected one", () => {
    setup({ selectedId: "c2" });
    expect(screen.getByRole("heading", { name: "Thư mục ảnh" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /Du lịch\s*12 ảnh/ })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("button", { name: "Tất cả thư mục" })).toHaveAttribute("aria-pressed", "false");
  });

  it("creates a folder and selects it", async () => {
    const { user, props } = setup();
    await user.type(screen.getByRole("textbox", { name: "Tên thư mục mới" }), "  Ảnh mèo {Enter}");
    expect(props.onCreate).toHaveBeenCalledWith("Ảnh mèo");
    expect(props.onSelect).toHaveBeenCalledWith("new");
    expect(screen.getByRole("textbox", { name: "Tên thư mục mới" })).toHaveValue("");
  });

  it("deletes only after confirmation, and Cancel keeps the folder", async () => {
    const { user, props } = setup({ selectedId: "c1" });
    await user.click(screen.getByRole("button", { name: "Xoá thư mục Hình khối" }));
    const confirm = screen.getByRole("alertdialog");
    expect(confirm).toHaveTextContent("Xoá “Hình khối” cùng 3 ảnh?");
    await user.click(within(confirm).getByRole("button", { name: "Huỷ" }));
    expect(props.onDelete).not.toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Xoá thư mục Hình khối" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Xoá" }));
    expect(props.onDelete).toHaveBeenCalledWith("c1");
    expect(props.onSelect).toHaveBeenCalledWith(null);
  });

  it("shows a failure in plain words", async () => {
    const { user } = setup({
      onCreate: vi.fn().mockRejectedValue(new ApiError(503, "storage_unavailable", "down")),
    });
    await user.type(screen.getByRole("textbox", { name: "Tên thư mục mới" }), "X{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Dịch vụ tạm thời không phản hồi");
  });

  it("offers delete only on folders the key may change, and no create form to a read-only key", () => {
    setup({
      items: [collection(), collection({ id: "c2", name: "Dùng chung", shared: true, writable: false })],
      canCreate: false,
    });
    expect(screen.getByRole("button", { name: "Xoá thư mục Hình khối" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Xoá thư mục Dùng chung" })).not.toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Tên thư mục mới" })).not.toBeInTheDocument();
    expect(screen.getByText(/chỉ được tìm kiếm và xem ảnh/)).toBeInTheDocument();
  });

  it("has an honest empty state", () => {
    setup({ items: [] });
    expect(screen.getByText(/Chưa có thư mục nào/)).toBeInTheDocument();
  });
});
