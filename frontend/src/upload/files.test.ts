import { describe, expect, it } from "vitest";
import { batches, filesFromDrop, visibleFiles } from "./files";

const file = (name: string, size: number) => new File([new Uint8Array(size)], name);

describe("batches", () => {
  it("keeps each request under the byte and count limits", () => {
    const files = [file("a", 6), file("b", 6), file("c", 6), file("d", 1)];
    expect(batches(files, 12, 10).map((b) => b.map((f) => f.name))).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    expect(batches(files, 100, 3).map((b) => b.length)).toEqual([3, 1]);
  });

  it("sends a file larger than the limit on its own", () => {
    const files = [file("small", 1), file("huge", 50), file("tail", 1)];
    expect(batches(files, 10, 10).map((b) => b.map((f) => f.name))).toEqual([["small"], ["huge"], ["tail"]]);
  });

  it("makes no empty batch", () => {
    expect(batches([])).toEqual([]);
  });
});

describe("files from a drop", () => {
  it("walks dropped folders and leaves out hidden files", async () => {
    const entry = (name: string): FileSystemFileEntry =>
      ({
        name,
        isFile: true,
        isDirectory: false,
        file: (ok: (f: File) => void) => ok(file(name, 1)),
      }) as unknown as FileSystemFileEntry;
    const folder = (name: string, children: FileSystemEntry[]): FileSystemDirectoryEntry => {
      const chunks = [children, []];
      return {
        name,
        isFile: false,
        isDirectory: true,
        createReader: () => ({
          readEntries: (ok: (e: FileSystemEntry[]) => void) => ok(chunks.shift() ?? []),
        }),
      } as unknown as FileSystemDirectoryEntry;
    };
    const tree = folder("anh", [entry("1.png"), entry(".DS_Store"), folder("con", [entry("2.jpg")])]);
    const items = [tree, entry("3.zip")].map((e) => ({ kind: "file", webkitGetAsEntry: () => e }));
    const data = { items, files: [] } as unknown as DataTransfer;
    expect((await filesFromDrop(data)).map((f) => f.name)).toEqual(["1.png", "2.jpg", "3.zip"]);
  });

  it("falls back to the plain file list", async () => {
    const data = { items: [], files: [file("a.png", 1), file(".hidden", 1)] } as unknown as DataTransfer;
    expect((await filesFromDrop(data)).map((f) => f.name)).toEqual(["a.png"]);
    expect(visibleFiles([file("Thumbs.db", 1), file("b.png", 1)]).map((f) => f.name)).toEqual(["b.png"]);
  });
});
