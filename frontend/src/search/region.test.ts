import { describe, expect, it } from "vitest";
import { formatRegion, parseRegion, pictureRect, regionBetween } from "./region";

const element = { left: 100, top: 50, width: 400, height: 300 };

describe("regions of a picture", () => {
  it("finds the picture inside a letter-boxed element", () => {
    expect(pictureRect(element, 64, 48)).toEqual(element); // same shape: it fills the element
    // a tall picture in a wide element: bands left and right
    expect(pictureRect(element, 100, 200)).toEqual({ left: 225, top: 50, width: 150, height: 300 });
    expect(pictureRect(element, 0, 0)).toEqual(element); // size unknown yet
  });

  it("turns a drag into fractions of the picture, whichever way it goes", () => {
    const box = { x: 0.25, y: 0.2, width: 0.25, height: 0.3 };
    expect(regionBetween(element, { x: 200, y: 110 }, { x: 300, y: 200 })).toEqual(box);
    expect(regionBetween(element, { x: 300, y: 200 }, { x: 200, y: 110 })).toEqual(box);
  });

  it("stops at the picture's edges and ignores a click", () => {
    expect(regionBetween(element, { x: 400, y: 200 }, { x: 900, y: 900 })).toEqual({
      x: 0.75,
      y: 0.5,
      width: 0.25,
      height: 0.5,
    });
    expect(regionBetween(element, { x: 200, y: 110 }, { x: 202, y: 111 })).toBeNull();
    expect(regionBetween(element, { x: 0, y: 0 }, { x: 50, y: 40 })).toBeNull(); // wholly outside
  });

  it("rounds to a ten-thousandth and reads back what it writes", () => {
    const region = regionBetween(element, { x: 100, y: 50 }, { x: 233, y: 150 })!;
    expect(region).toEqual({ x: 0, y: 0, width: 0.3325, height: 0.3333 });
    expect(parseRegion(formatRegion(region))).toEqual(region);
  });
});
