import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { probeImage } from "./image-probe.js";

// 24×16 pictures made with ffmpeg (JPEG baseline; WebP lossy "VP8 ").
const JPEG = Buffer.from(
  "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABMAAEBAAAAAAAAAAAAAAAAAAAABAEBAQAAAAAAAAAAAAAAAAAAAAYQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAQABgDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCEBcJcAB//2Q==",
  "base64",
);
const WEBP = Buffer.from("UklGRkQAAABXRUJQVlA4IDgAAADwAgCdASoYABAAPpE4l0eloyIhMAgAsBIJQA7AACBsAAD+2ib//8bx1t9be3n//W17bwyZMAAAAA==", "base64");

const png = (width: number, height: number) => PNG.sync.write(new PNG({ width, height }));

describe("probeImage", () => {
  it("reads the type and size of PNG, JPEG and WebP from their bytes", () => {
    expect(probeImage(png(30, 20))).toEqual({ ext: "png", contentType: "image/png", width: 30, height: 20 });
    expect(probeImage(JPEG)).toEqual({ ext: "jpg", contentType: "image/jpeg", width: 24, height: 16 });
    expect(probeImage(WEBP)).toEqual({ ext: "webp", contentType: "image/webp", width: 24, height: 16 });
  });

  it("refuses text, empty input, a signature followed by garbage, and damaged or cut files", () => {
    const good = png(8, 8);
    const flipped = Buffer.from(good);
    flipped[good.length - 20] = flipped[good.length - 20]! ^ 0xff;
    for (const bad of [
      Buffer.from("hello, I am not a picture"),
      Buffer.alloc(0),
      Buffer.concat([good.subarray(0, 8), Buffer.from("garbage garbage garbage garbage")]),
      flipped,
      good.subarray(0, good.length - 12),
      Buffer.concat([good, Buffer.from("trailing")]),
      JPEG.subarray(0, 40),
      Buffer.concat([JPEG.subarray(0, 3), Buffer.alloc(200, 0x41)]),
      WEBP.subarray(0, WEBP.length - 4),
    ]) {
      expect(probeImage(bad)).toBeNull();
    }
  });
});
