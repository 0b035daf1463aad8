// A text match's snippet cut into plain and matched parts, for <mark>.
import type { TextMatch } from "../api/types";

export interface Part {
  text: string;
  matched: boolean;
}

/** The snippet in order, each highlight a part of its own. The API's offsets count characters
 * (code points), not UTF-16 units, so the snippet is indexed as an array of characters; spans
 * out of range or overlapping an earlier one are dropped. */
export function highlightParts({ snippet, highlights }: TextMatch): Part[] {
  const chars = Array.from(snippet);
  const spans = highlights
    .map(([start, end]) => [Math.max(0, start), Math.min(chars.length, end)] as const)
    .filter(([start, end]) => start < end)
    .sort((a, b) => a[0] - b[0]);
  const parts: Part[] = [];
  let at = 0;
  for (const [start, end] of spans) {
    if (start < at) continue;
    if (start > at) parts.push({ text: chars.slice(at, start).join(""), matched: false });
    parts.push({ text: chars.slice(start, end).join(""), matched: true });
    at = end;
  }
  if (at < chars.length) parts.push({ text: chars.slice(at).join(""), matched: false });
  return parts;
}
