export { profileImageFolder } from './image-folder.ts';
export { profileManifest } from './manifest.ts';
export { checkProfileConsistency, parseProfile, readProfileFile } from './profile-file.ts';
export { readImageHeaderFromFile, readImageHeaderFromBytes } from './read-header.ts';
export { modalityFromDicom } from './dicom-modality.ts';
export { IMAGE_FORMATS, type ImageFormat, type ImageHeader } from './image-header.ts';
export type {
  ManifestOptions,
  ProfileCounts,
  ProfileOptions,
  ProfileResult,
  SkippedFile,
} from './types.ts';
