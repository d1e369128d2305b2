/** Progress bars on stderr for long stages; silent when stderr is not a terminal (CI, tests). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(delta: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(10)} {bar} {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    update(delta) {
      value = Math.min(total, value + delta);
      bar.update(value);
    },
    stop() {
      bar.update(total);
      bar.stop();
    },
  };
}
