// Files from a drop (images, whole folders, zips) and their split into requests the gateway accepts.

/** Below the gateway's default 25 MB body limit, with room for multipart overhead. */
export const MAX_BATCH_BYTES = 20 * 1024 * 1024;
export const MAX_BATCH_FILES = 200;

function hidden(name: string): boolean {
  return name.startsWith(".") || name === "Thumbs.db" || name === "desktop.ini";
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (hidden(entry.name)) return;
  if (entry.isFile) {
    out.push(await entryFile(entry as FileSystemFileEntry));
    return;
  }
  if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in chunks (100 in Chromium) until it returns an empty list.
    for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
      for (const child of batch) await walk(child, out);
    }
  }
}

/** Every file in a drop, folders walked recursively; hidden system files left out. */
export async function filesFromDrop(data: DataTransfer): Promise<File[]> {
  const entries = Array.from(data.items ?? [])
    .filter((item) => item.kind === "file")
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((e) => e === null)) {
    return Array.from(data.files).filter((f) => !hidden(f.name));
  }
  const out: File[] = [];
  for (const entry of entries) await walk(entry as FileSystemEntry, out);
  return out;
}

export function visibleFiles(list: FileList | File[]): File[] {
  return Array.from(list).filter((f) => !hidden(f.name));
}

/** Groups of files, each under the byte and file-count limits; a file over the limit goes alone. */
export function batches(files: File[], maxBytes = MAX_BATCH_BYTES, maxFiles = MAX_BATCH_FILES): File[][] {
  const out: File[][] = [];
  let current: File[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length && (bytes + file.size > maxBytes || current.length >= maxFiles)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length) out.push(current);
  return out;
}
