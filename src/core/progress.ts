// How long work reports how far it got. A face decides what that looks like (a terminal bar, a
// server-sent event); the library only calls tick and finish.

export interface Progress {
  /** `done` of the total the caller was given; `note` names the item just finished. */
  tick(done: number, note?: string): void;
  finish(note?: string): void;
}

/** Makes a Progress for `total` items of work called `label`. */
export type ProgressFactory = (label: string, total: number) => Progress;

/** No output at all, for library callers that do not ask for progress. */
export const silentProgress: Progress = { tick() {}, finish() {} };

export const silentProgressFactory: ProgressFactory = () => silentProgress;
