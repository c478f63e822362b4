import { z } from 'zod';
import { maxOf, minOf } from './arrays.ts';

export const TASKS = ['multiclass', 'binary', 'multilabel'] as const;
export const Task = z.enum(TASKS);
export type Task = z.infer<typeof Task>;

/** Imaging modalities the profile can name; `other` when known but not listed, `unknown` when not known. */
export const MODALITIES = [
  'xray',
  'ct',
  'mri',
  'ultrasound',
  'dermoscopy',
  'histopathology',
  'fundus',
  'microscopy',
  'oct',
  'blood-smear',
  'natural',
  'other',
  'unknown',
] as const;
export const Modality = z.enum(MODALITIES);
export type Modality = z.infer<typeof Modality>;

export const Resolution = z
  .object({
    medianWidth: z.number().positive(),
    medianHeight: z.number().positive(),
    minWidth: z.number().positive(),
    minHeight: z.number().positive(),
    maxWidth: z.number().positive(),
    maxHeight: z.number().positive(),
  })
  .describe('image sizes in PIXELS over the images read');
export type Resolution = z.infer<typeof Resolution>;

/**
 * Meta-features of a dataset. Required: what any source can state (name, task, modality,
 * instances, classes). The class statistics are filled from class counts when those are known
 * (see deriveClassStatistics); resolution, channels and formats when images were read.
 */
export const DatasetProfile = z.object({
  // The name is the key runs are joined by: no control characters, as import refuses in cells.
  name: z
    .string()
    .min(1)
    .regex(
      /^[^\u0000-\u001f\u007f]*$/,
      'must not contain control characters (a line break, a tab, NUL)',
    ),
  task: Task,
  modality: Modality,
  numInstances: z.number().int().positive().describe('number of images'),
  numClasses: z.number().int().min(1),
  classCounts: z
    .record(z.string(), z.number().int().nonnegative())
    .optional()
    .describe('images per class'),
  imbalanceRatio: z
    .number()
    .min(1)
    .optional()
    .describe('largest class size over smallest class size (1 = balanced)'),
  classEntropy: z.number().min(0).optional().describe('entropy of the class distribution in bits'),
  normalizedEntropy: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('class entropy over log2(classes): 1 = balanced, towards 0 = one class dominates'),
  classSizeMean: z.number().min(0).optional().describe('mean images per class'),
  classSizeStd: z
    .number()
    .min(0)
    .optional()
    .describe('population standard deviation of images per class'),
  classSizeMin: z.number().min(0).optional().describe('images in the smallest class'),
  classSizeMax: z.number().min(0).optional().describe('images in the largest class'),
  resolution: Resolution.optional(),
  channels: z
    .number()
    .int()
    .min(1)
    .max(4)
    .optional()
    .describe('1 grayscale, 3 color; 2 and 4 with alpha'),
  fileFormats: z
    .record(z.string(), z.number().int().nonnegative())
    .optional()
    .describe('images per file format'),
  /** Where the figures come from (paper, dataset card); shown with evidence. */
  source: z.string().optional(),
});
export type DatasetProfile = z.infer<typeof DatasetProfile>;

export interface ClassStatistics {
  imbalanceRatio: number;
  classEntropy: number;
  normalizedEntropy: number;
  classSizeMean: number;
  classSizeStd: number;
  classSizeMin: number;
  classSizeMax: number;
}

/** Class-balance meta-features from per-class counts (entropy in bits; population std). */
export function deriveClassStatistics(counts: readonly number[]): ClassStatistics {
  if (counts.length === 0) throw new RangeError('class statistics need at least one class');
  const total = counts.reduce((s, c) => s + c, 0);
  const min = minOf(counts);
  const max = maxOf(counts);
  const mean = total / counts.length;
  const variance = counts.reduce((s, c) => s + (c - mean) ** 2, 0) / counts.length;
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / total) * Math.log2(c / total);
  return {
    imbalanceRatio: min > 0 ? max / min : Number.POSITIVE_INFINITY,
    classEntropy: entropy,
    normalizedEntropy: counts.length > 1 ? entropy / Math.log2(counts.length) : 0,
    classSizeMean: mean,
    classSizeStd: Math.sqrt(variance),
    classSizeMin: min,
    classSizeMax: max,
  };
}

/** Fills the class statistics of a profile from its class counts where they are missing. */
export function completeProfile(profile: DatasetProfile): DatasetProfile {
  if (!profile.classCounts) return profile;
  const counts = Object.values(profile.classCounts);
  if (counts.length === 0 || counts.some((c) => c === 0)) return profile;
  return { ...deriveClassStatistics(counts), ...stripUndefined(profile) };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
