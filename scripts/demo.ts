/**
 * `npm run demo`: records a scripted class against a running `npm start` and prints the
 * result: the videos on their shared timeline and the task's state history.
 * Reads API_URL (or API_PORT), API_TOKEN and TIC_EMULATOR_URL (or TIC_EMULATOR_PORT).
 */
import { compareVideos, runClassScenario } from '../local/demo-scenario';
import { DEFAULT_DEV_TOKEN } from '../local/stack';

const apiUrl = process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;
const emulatorUrl = process.env.TIC_EMULATOR_URL ?? `http://127.0.0.1:${process.env.TIC_EMULATOR_PORT ?? 4100}`;
const apiToken = process.env.API_TOKEN || DEFAULT_DEV_TOKEN;

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  let waiting = false;
  const { task, emulatorVideos, emulatorState } = await runClassScenario({
    apiUrl,
    apiToken,
    emulatorUrl,
    onProgress: (line, kind) => {
      if (kind === 'wait') {
        process.stdout.write(`\r  ${line}   `);
        waiting = true;
      } else {
        if (waiting) process.stdout.write('\n');
        waiting = false;
        console.log(`• ${line}`);
      }
    },
  });
  if (waiting) process.stdout.write('\n');
  console.log(`\nrecording ${task.record_user_id} (task ${task.task_id}) is ${task.status}; the emulator says ${emulatorState}\n`);
  console.log(
    table(
      ['track', 'user', 'offset', 'duration', 'size'],
      task.videos.map((video) => [video.kind, video.user_id || '—', seconds(video.offset_ms), seconds(video.duration_ms), `${Math.round(video.size_bytes / 1024)} KiB`]),
    ),
  );
  const created = Date.parse(task.timeline[0]?.at ?? '');
  console.log(`\nstate history\n${table(
    ['status', 'at', 'by'],
    task.timeline.map((entry) => [entry.status, `+${seconds(Date.parse(entry.at) - created)}`, entry.source]),
  )}`);
  console.log(`\ncallbacks: record_started ×${task.callbacks.record_started?.count ?? 0}, record_finished ×${task.callbacks.record_finished?.count ?? 0}; polls: ${task.polls}`);
  const differences = compareVideos(task, emulatorVideos);
  if (task.status !== 'finished' || differences.length > 0) {
    console.error(`\nthe recording does not match the emulator's room history:\n  ${differences.join('\n  ') || task.status}`);
    process.exit(1);
  }
  console.log(`the ${task.videos.length} videos match the emulator's room history.`);
}

main().catch((error: Error) => {
  const hint = /fetch failed|ECONNREFUSED/.test(`${error.message} ${String(error.cause ?? '')}`) ? ' (is `npm start` running?)' : '';
  console.error(`demo failed: ${error.message}${hint}`);
  process.exit(1);
});
