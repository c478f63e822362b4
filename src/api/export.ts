// Writing recommended configurations where the user's tools pick them up (Optuna, JSON, YAML).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MetallmixError, type Recommendation } from '../core/index.ts';
import { exportRecommendation, type ExportFile, type ExportFormat } from '../recommend/export.ts';

export { EXPORT_FORMATS, type ExportFile, type ExportFormat } from '../recommend/export.ts';

/** The export files of `rec`, named from `base`, for a face that hands them over itself. */
export function exportContents(
  rec: Recommendation,
  format: ExportFormat,
  base: string,
): ExportFile[] {
  return exportRecommendation(rec, format, base);
}

/** Writes the export files of `rec`; returns their paths. */
export function exportTrials(rec: Recommendation, format: ExportFormat, out: string): string[] {
  return exportContents(rec, format, out).map((file) => {
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
