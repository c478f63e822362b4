// Writing recommended configurations where the user's tools pick them up (Optuna, JSON, YAML).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MetallmixError, type Recommendation } from '../core/index.ts';
import { exportRecommendation, type ExportFormat } from '../recommend/export.ts';

export { EXPORT_FORMATS, type ExportFormat } from '../recommend/export.ts';

/** Writes the export files of `rec`; returns their paths. */
export function exportTrials(rec: Recommendation, format: ExportFormat, out: string): string[] {
  return exportRecommendation(rec, format, out).map((file) => {
    try {
      mkdirSync(dirname(file.name), { recursive: true });
      writeFileSync(file.name, file.content);
    } catch (err) {
      throw new MetallmixError(`cannot write the export: ${(err as Error).message}`, {
        location: { file: file.name },
        cause: err,
      });
    }
    return file.name;
  });
}
