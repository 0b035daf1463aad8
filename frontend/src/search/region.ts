// A region of a picture, dragged over it in the detail view: fractions of the picture as displayed
// (what `/search/image` cuts), kept in the URL as `region=x,y,width,height`.
import type { Region } from "../api/types";

const DIGITS = 4; // a ten-thousandth: under a pixel of any picture the API accepts
const SLACK = 10 ** -DIGITS; // what rounding may add to x + width
const MIN_DRAG_PX = 4; // a shorter drag is a click, not a box

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

const clamp = (v: number) => Math.min(1, Math.max(0, v));
const round = (v: number) => Number(v.toFixed(DIGITS));

/** Where the picture lies in its element: `object-fit: contain` may leave bands either side. */
export function pictureRect(element: Rect, naturalWidth: number, naturalHeight: number): Rect {
  if (!naturalWidth || !naturalHeight || !element.width || !element.height) return element;
  const scale = Math.min(element.width / naturalWidth, element.height / naturalHeight);
  const width = naturalWidth * scale;
  const height = naturalHeight * scale;
  return {
    left: element.left + (element.width - width) / 2,
    top: element.top + (element.height - height) / 2,
    width,
    height,
  };
}

/** The box between two pointer positions (client pixels) over `picture`, in fractions of it;
 * null when the drag is too short to mean a box. Positions outside the picture stop at its edge. */
export function regionBetween(
  picture: Rect,
  from: { x: number; y: number },
  to: { x: number; y: number },
): Region | null {
  if (Math.abs(to.x - from.x) < MIN_DRAG_PX || Math.abs(to.y - from.y) < MIN_DRAG_PX) return null;
  const fx = (px: number) => clamp((px - picture.left) / picture.width);
  const fy = (py: number) => clamp((py - picture.top) / picture.height);
  const [x0, x1] = [fx(from.x), fx(to.x)].sort((a, b) => a - b) as [number, number];
  const [y0, y1] = [fy(from.y), fy(to.y)].sort((a, b) => a - b) as [number, number];
  const x = round(x0);
  const y = round(y0);
  const width = round(Math.min(x1, 1) - x);
  const height = round(Math.min(y1, 1) - y);
  if (x >= 1 || y >= 1 || width <= 0 || height <= 0) return null;
  return { x, y, width, height };
}

export function formatRegion(region: Region): string {
  return [region.x, region.y, region.width, region.height].map(round).join(",");
}

/** A region from the URL; null unless it is four fractions that make a box inside the picture. */
export function parseRegion(text: string | null): Region | null {
  if (!text) return null;
  const parts = text.split(",").map(Number);
  if (parts.length !== 4 || !parts.every(Number.isFinite)) return null;
  const [x, y, width, height] = parts as [number, number, number, number];
  const inside = x >= 0 && x < 1 && y >= 0 && y < 1 && width > 0 && height > 0;
  const fits = x + width <= 1 + SLACK && y + height <= 1 + SLACK; // the API cuts at the edge
  return inside && fits ? { x, y, width, height } : null;
}
