import { z } from 'zod';

/** A pretrained model that can be fine-tuned. Extra facts go in `extra`. */
export const ModelCard = z.object({
  id: z.string().min(1),
  family: z.string().min(1),
  architecture: z.enum(['cnn', 'transformer', 'hybrid', 'other']).default('other'),
  params: z.number().positive().optional(),
  pretrainingData: z.string().optional(),
  inputResolution: z.number().int().positive().optional(),
  source: z.string().optional(),
  extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;
