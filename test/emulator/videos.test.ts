/**
 * The video files behind `video_url`: every video of a finished recording is served as the
 * same small, real MP4 (H.264 in an ISO BMFF container), and an unknown fileId is a 404.
 * The MP4 is checked by walking its box headers, so the tests need no ffmpeg.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { FAST, callVendor, control, startTask, waitFor } from './helpers';

/** An ISO BMFF box header: 4-byte big-endian size (header included), then a 4-character type. */
const BOX_HEADER_BYTES = 8;
/** A full box (`stsd`) adds 1 byte version and 3 bytes flags; `stsd` then counts its entries in 4 bytes. */
const STSD_PREAMBLE_BYTES = 8;

interface Box {
  type: string;
  /** The box's content, after its header. */
  body: Buffer;
}

/** The boxes laid end to end in `bytes`; throws if a size runs past the end or is too small. */
function boxes(bytes: Buffer): Box[] {
  const found: Box[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + BOX_HEADER_BYTES > bytes.length) throw new Error(`truncated box header at ${offset}`);
    const sizeBytes = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    // Sizes 0 ("to the end") and 1 (64-bit size) are legal but not expected in this small file.
    if (sizeBytes < BOX_HEADER_BYTES || offset + sizeBytes > bytes.length) throw new Error(`bad size ${sizeBytes} of box ${type} at ${offset}`);
    found.push({ type, body: bytes.subarray(offset + BOX_HEADER_BYTES, offset + sizeBytes) });
    offset += sizeBytes;
  }
  return found;
}

/** The first child of `parent` with `type`, or a thrown error naming the missing box. */
function child(parent: Box, type: string): Box {
  const box = boxes(parent.body).find((candidate) => candidate.type === type);
  if (!box) throw new Error(`no ${type} box in ${parent.type}`);
  return box;
}

/** The sample entry types of every track's `stsd` (moov > trak > mdia > minf > stbl > stsd). */
function sampleEntryTypes(moov: Box): string[] {
  return boxes(moov.body)
    .filter((box) => box.type === 'trak')
    .flatMap((trak) => {
      const stsd = child(child(child(child(trak, 'mdia'), 'minf'), 'stbl'), 'stsd');
      return boxes(stsd.body.subarray(STSD_PREAMBLE_BYTES)).map((entry) => entry.type);
    });
}

let emulator: RunningEmulator;
let videoUrls: string[];

beforeAll(async () => {
  emulator = await startEmulator(FAST);
  await control(emulator, 'POST', '/rooms/4321/users/teacher/join', { camera: true, screen: true });
  const taskId = await startTask(emulator, 4321);
  await waitFor(() => emulator.task(taskId)?.state === 'recording');
  await callVendor(emulator, { path: 'stop', body: { task_id: taskId } });
  const videos = await waitFor(() => emulator.task(taskId)?.state === 'finished' && emulator.task(taskId)?.videos);
  videoUrls = videos.map((video) => video.video_url);
});
afterAll(async () => {
  await emulator.close();
});

describe('recorded video files', () => {
  it('serves every video of a recording (camera, screen, whiteboard) as the same MP4, with its length', async () => {
    expect(videoUrls).toHaveLength(3);
    const files = await Promise.all(videoUrls.map((url) => fetch(url)));
    const bodies: Buffer[] = [];
    for (const file of files) {
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('video/mp4');
      const body = Buffer.from(await file.arrayBuffer());
      expect(Number(file.headers.get('content-length'))).toBe(body.length);
      bodies.push(body);
    }
    expect(bodies[0]!.length).toBeGreaterThan(1_000);
    for (const body of bodies) expect(body.equals(bodies[0]!)).toBe(true);
  });

  it('is an ISO BMFF file: ftyp first, then moov before a non-empty mdat, boxes tiling the whole file', async () => {
    const bytes = Buffer.from(await (await fetch(videoUrls[0]!)).arrayBuffer());
    const topLevel = boxes(bytes);
    const types = topLevel.map((box) => box.type);
    expect(types[0]).toBe('ftyp');
    expect(types).toContain('moov');
    expect(types).toContain('mdat');
    // faststart: the index comes before the media, so a player can start while downloading.
    expect(types.indexOf('moov')).toBeLessThan(types.indexOf('mdat'));
    expect(topLevel.find((box) => box.type === 'mdat')!.body.length).toBeGreaterThan(0);
  });

  it('carries one H.264 video track (an avc1 sample entry in its stsd)', async () => {
    const bytes = Buffer.from(await (await fetch(videoUrls[0]!)).arrayBuffer());
    const moov = boxes(bytes).find((box) => box.type === 'moov')!;
    expect(sampleEntryTypes(moov)).toEqual(['avc1']);
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await fetch(videoUrls[0]!, { method: 'HEAD' });
    const get = await fetch(videoUrls[0]!);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('video/mp4');
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    await get.arrayBuffer();
  });

  it('answers 404 for a fileId it never produced', async () => {
    const response = await fetch(`${emulator.url}/_emulator/videos/5285890999999999999.mp4`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).not.toBe('video/mp4');
    await response.arrayBuffer();
  });
});
