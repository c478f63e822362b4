import { z } from 'zod';

/** A pretrained model that can be fine-tuned. Extra facts go in `extra`. */
export const ModelCard = z.object({
  id: z.string().min(1),
  family: z.string().min(1),
  architecture: z.enum(['cnn', 'transformer', 'hybrid', 'other']).default('other'),
  params: z
    .number()
    .positive()
    .optional()
    .describe('number of parameters (a count, not millions: 86570000 for ViT-B/16)'),
  pretrainingData: z.string().optional().describe('e.g. ImageNet-1k, ImageNet-22k'),
  inputResolution: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('input image side in PIXELS the weights were trained or evaluated at'),
  source: z.string().optional().describe('where the facts come from (model card, results table)'),
  extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;
