import { useEffect, useRef, useState, type PointerEvent } from "react";
import type { Image, Region } from "../api/types";
import { pictureRect, regionBetween, type Rect } from "../search/region";

interface Props {
  image: Image;
  active: boolean; // dragging draws a box; otherwise the picture alone
  region: Region | null;
  onChange: (region: Region | null) => void;
}

interface Drag {
  x: number;
  y: number;
  picture: Rect; // in client pixels, when the drag began
}

/** The picture of the detail view; while `active`, a box dragged over it (pointer events, so mouse,
 * pen and touch alike) is the region, kept in fractions of the picture as displayed. */
export function RegionSelect({ image, active, region, onChange }: Props) {
  const frame = useRef<HTMLDivElement>(null);
  const picture = useRef<HTMLImageElement>(null);
  const drag = useRef<Drag | null>(null);
  const [placed, setPlaced] = useState<Rect | null>(null); // the picture within the frame, for the box

  const measure = (): Rect | null => {
    const img = picture.current;
    if (!img) return null;
    // `object-fit: contain` may letter-box the picture inside its element.
    const shown = pictureRect(
      img.getBoundingClientRect(),
      img.naturalWidth || image.width,
      img.naturalHeight || image.height,
    );
    const origin = frame.current?.getBoundingClientRect() ?? { left: 0, top: 0 };
    setPlaced({ ...shown, left: shown.left - origin.left, top: shown.top - origin.top });
    return shown;
  };

  useEffect(() => {
    if (!region) return;
    const onResize = () => measure();
    window.addEventListener("resize", onResize);
    return () => window.removeEventListener("resize", onResize);
  }, [region, image]);

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (!active || event.button !== 0) return;
    const shown = measure();
    if (!shown) return;
    event.preventDefault(); // no text selection, no dragging the image out
    event.currentTarget.setPointerCapture?.(event.pointerId);
    drag.current = { x: event.clientX, y: event.clientY, picture: shown };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (start) onChange(regionBetween(start.picture, start, { x: event.clientX, y: event.clientY }));
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    onPointerMove(event);
    drag.current = null;
  };

  return (
    <div
      ref={frame}
      className={active ? "region-frame selecting" : "region-frame"}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => (drag.current = null)}
    >
      <img
        ref={picture}
        src={image.url}
        alt={image.filename}
        width={image.width}
        height={image.height}
        draggable={false}
      />
      {active && region && placed && (
        <div
          className="region-box"
          data-testid="region-box"
          aria-hidden="true"
          style={{
            left: placed.left + region.x * placed.width,
            top: placed.top + region.y * placed.height,
            width: region.width * placed.width,
            height: region.height * placed.height,
          }}
        />
      )}
    </div>
  );
}
