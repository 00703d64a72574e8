/**
 * The local stack as `npm start` runs it (serverless-offline serving the built bundles,
 * DynamoDB Local, fauxqs, the emulator), on free ports, driven by the demo's class over
 * HTTP only, then stopped with nothing left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareVideos, runClassScenario } from '../../local/demo-scenario';
import { assertPortFree } from '../../local/ports';
import { startLocalStack, type LocalStack } from '../../local/stack';

let stack: LocalStack | undefined;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'offline',
    emulator: { startDelayMs: 200, stopDelayMs: 200, processingDelayMs: 200, callbackRetryIntervalMs: 1_000 },
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('the local stack of npm start', () => {
  it('records the demo class end to end, with the videos the emulator produced', async () => {
    const running = stack!;
    const result = await runClassScenario({
      apiUrl: running.apiUrl,
      apiToken: running.apiToken,
      emulatorUrl: running.emulator.url,
      timeScale: 0.2,
      resultTimeoutMs: 60_000,
    });
    expect(result.task.status).toBe('finished');
    expect(result.emulatorState).toBe('finished');
    expect(compareVideos(result.task, result.emulatorVideos)).toEqual([]);
    // Teacher camera + screen, two student cameras, the whiteboard.
    expect(result.task.videos.map((video) => `${video.kind}:${video.user_id}`).sort()).toEqual([
      'camera:student-1',
      'camera:student-2',
      'camera:teacher',
      'screen:teacher',
      'whiteboard:',
    ]);
    expect(result.task.timeline.map((entry) => entry.status)).toEqual(['starting', 'prepared', 'recording', 'stopping', 'finished']);
    expect(result.task.callbacks.record_finished?.count).toBe(1);
  }, 120_000);

  it('stops every process and frees every port', async () => {
    const running = stack!;
    const ports = [new URL(running.apiUrl).port, String(running.emulator.port), new URL(running.dynamoEndpoint).port, new URL(running.sqsEndpoint).port].map(Number);
    expect(running.processIds.length).toBe(2);
    expect(running.processIds.every(isAlive)).toBe(true);
    await running.stop();
    expect(running.processIds.filter(isAlive)).toEqual([]);
    for (const port of ports) await expect(assertPortFree(port)).resolves.toBeUndefined();
  }, 60_000);
});
