import type { DatasetProfile, Modality, Task } from '../core/profile.ts';

export interface ProfileOptions {
  /** Dataset name; default: the folder name, or the manifest's file name without extension. */
  name?: string;
  /** Default: binary for two classes, multiclass otherwise. */
  task?: Task;
  /** Overrides the modality read from DICOM files (otherwise `unknown`). */
  modality?: Modality;
  /** Files read at once (default 48). */
  concurrency?: number;
  /** Called as headers are read, with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ManifestOptions extends ProfileOptions {
  /** Profile only rows whose split column has this value (e.g. `train`). */
  split?: string;
}

/** A file that was not profiled, and why. `file` is relative to the folder or as the manifest wrote it. */
export interface SkippedFile {
  file: string;
  reason: string;
  /** Manifest line that named the file. */
  line?: number;
}

export interface ProfileCounts {
  /** Files considered: found in the folder (hidden files aside) or named by the kept manifest rows. */
  files: number;
  /** Files whose header was read and that count in the profile. */
  images: number;
  /** files - images: the length of the skipped list. */
  skipped: number;
}

export interface ProfileResult {
  profile: DatasetProfile;
  skipped: SkippedFile[];
  counts: ProfileCounts;
  /** What the user should know about the profile (e.g. DICOM files that disagree on the modality). */
  notices: string[];
}

/** A file to read and the class it belongs to. */
export interface LabeledFile {
  /** Absolute path to open. */
  path: string;
  /** Path shown to the user. */
  display: string;
  label: string;
  line?: number;
}
