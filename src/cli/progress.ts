// Progress for long work: a redrawn bar on a terminal, plain periodic lines otherwise (CI, pipes),
// always on stderr so `--json` output on stdout stays clean.
import { silentProgressFactory, type Progress, type ProgressFactory } from '../core/index.ts';
import type { CliIo, OutputStream } from './io.ts';

/** 42s, 3m05s, 1h02m */
function duration(sec: number): string {
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function createProgress(
  label: string,
  total: number,
  stream: OutputStream,
  intervalMs = 2000,
): Progress {
  const started = Date.now();
  let lastPrint = 0;
  const tty = Boolean(stream.isTTY);
  const render = (done: number, note?: string): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const elapsed = (Date.now() - started) / 1000;
    const bar = tty ? `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}] ` : '';
    // Remaining time at the average pace so far; none before the first item or after the last.
    const eta =
      done > 0 && done < total ? `, ETA ${duration((elapsed / done) * (total - done))}` : '';
    return `${label} ${bar}${done}/${total} (${Math.round(frac * 100)}%) ${elapsed.toFixed(1)}s${eta}${note ? ` ${note}` : ''}`;
  };
  return {
    tick(done, note) {
      const now = Date.now();
      if (tty) {
        if (now - lastPrint < 100) return;
        stream.write(`\r${render(done, note)}\x1b[K`);
      } else {
        if (now - lastPrint < intervalMs) return;
        stream.write(`${render(done, note)}\n`);
      }
      lastPrint = now;
    },
    finish(note) {
      stream.write(`${tty ? '\r' : ''}${render(total, note)}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}

/** Progress on the CLI's stderr, or none (--quiet, --json). */
export function progressFor(io: CliIo, enabled: boolean): ProgressFactory {
  return enabled
    ? (label, total) => createProgress(label, total, io.stderr)
    : silentProgressFactory;
}
